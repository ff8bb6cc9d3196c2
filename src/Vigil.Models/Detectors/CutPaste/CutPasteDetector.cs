using TorchSharp;
using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Training;
using static TorchSharp.torch;
using SyntheticCutPaste = Vigil.Data.Synthetic.CutPaste;

namespace Vigil.Detectors.CutPaste;

/// <summary>
/// CutPaste (Li, Sohn, Yoon and Pfister, "CutPaste: Self-Supervised Learning for Anomaly Detection and Localization",
/// CVPR 2021), image level: the ImageNet ResNet18 with a projection head is fine-tuned to tell each colour-jittered
/// training image from its CutPaste copy (a rectangle cut and pasted elsewhere) and its scar copy (a thin rotated
/// strip) by cross-entropy; then a Gaussian (mean and Ledoit–Wolf covariance) is fitted on the L2-normalised pooled
/// features of the training images, and an image's score is its Mahalanobis distance to it. The map is that score
/// everywhere (no localisation; the paper's patch-level variant is not reproduced).
/// </summary>
public sealed class CutPasteDetector : TrainedDetector
{
    public const string ModelName = "cutpaste";
    private readonly CutPasteNetwork _network;

    public CutPasteDetector(IFeatureExtractor extractor, CutPasteOptions options, long seed) : base(extractor, options)
    {
        var backbone = TrainableResNet.CopyOf(extractor, "CutPaste", "to fine-tune it, as the paper does");
        try
        {
            int classes = options.Variant == CutPasteVariant.ThreeWay ? 3 : 2;
            _network = new CutPasteNetwork(backbone, options.HeadLayers, options.HeadWidth, options.EmbeddingWidth, classes, seed);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    public override string Model => ModelName;
    public new CutPasteOptions Options => (CutPasteOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("cutpaste", _network)];

    public override bool NeedsImages => true;

    public override int? BatchesPerEpoch => Options.StepsPerEpoch;

    protected override double MapSigma => 0;

    public override string StateSummary => base.StateSummary + (_network.HasDensity ? ", Gaussian density fitted" : ", no density yet");

    /// <summary>Nothing is frozen: the whole ResNet is fine-tuned.</summary>
    public override IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images) => [];

    /// <summary>run_training.py: cross-entropy of the classifier over the batch's views, labelled by view (0 the image itself).</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var (views, labels) = Views(images!, generator);
        return nn.functional.cross_entropy(_network.Logits(views), labels);
    }

    /// <summary>
    /// The self-supervised views of a batch of preprocessed images [N, 3, H, W]: each image colour-jittered (the port's
    /// ColorJitter before Resize and CutPaste, shared by all views), then the views the variant names (the image, its
    /// CutPaste copy, its scar copy); returns them [V·N, 3, H, W] view after view, and their labels [V·N]. Every draw
    /// comes from <paramref name="generator"/>.
    /// </summary>
    internal (Tensor Views, Tensor Labels) Views(Tensor images, Generator generator)
    {
        var o = Options;
        int n = (int)images.shape[0], c = (int)images.shape[1], h = (int)images.shape[2], w = (int)images.shape[3], size = c * h * w;
        int viewCount = o.Variant == CutPasteVariant.ThreeWay ? 3 : 2;
        ulong batchSeed = (ulong)randint(long.MaxValue, [1], generator: generator).item<long>();
        // The preprocessing's normalisation, undone for the augmentation (which works on [0, 1] values) and redone after.
        var mean = tensor(Preprocessing.Mean.ToArray()).reshape(1, -1, 1, 1);
        var std = tensor(Preprocessing.Std.ToArray()).reshape(1, -1, 1, 1);
        float[] raw;
        using (no_grad()) raw = (images * std + mean).contiguous().data<float>().ToArray();
        var data = new float[viewCount * n * size];
        var labels = new long[viewCount * n];
        Parallel.For(0, n, i =>
        {
            var random = new SeededRandom(SeededRandom.Derive(batchSeed, i));
            var image = ColorJitter.Draw(random, o.Jitter).Apply(new ImageTensor(c, h, w, raw[(i * size)..((i + 1) * size)]));
            ulong patchSeed = random.NextUInt64(), scarSeed = random.NextUInt64();
            bool unionTakesScar = random.Chance(0.5);
            ImageTensor Patch() => SyntheticCutPaste.Patch(image, patchSeed, o.Jitter, (o.AreaMin, o.AreaMax), o.Aspect).Image;
            ImageTensor Scar() => SyntheticCutPaste.Scar(image, scarSeed, o.Jitter, (o.ScarWidthMin, o.ScarWidthMax), (o.ScarHeightMin, o.ScarHeightMax),
                (-o.ScarRotation, o.ScarRotation)).Image;
            ImageTensor[] views = o.Variant switch
            {
                CutPasteVariant.Normal => [image, Patch()],
                CutPasteVariant.Scar => [image, Scar()],
                CutPasteVariant.ThreeWay => [image, Patch(), Scar()],
                _ => [image, unionTakesScar ? Scar() : Patch()],
            };
            for (int v = 0; v < viewCount; v++)
            {
                views[v].Data.CopyTo(data, (v * n + i) * size);
                labels[v * n + i] = v;
            }
        });
        return ((tensor(data, [viewCount * n, c, h, w]) - mean) / std, tensor(labels));
    }

    /// <summary>eval.py: the density of the training images' L2-normalised pooled features, with the trained network.</summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training)
    {
        var embeddings = new List<Tensor>();
        try
        {
            foreach (var batch in training) embeddings.Add(_network.Embeddings(batch.Images!).DetachFromDisposeScope());
            using var all = cat(embeddings, 0);
            if (all.shape[0] < 2) throw new VigilInputException($"CutPaste fits a Gaussian to the training images' features: it needs at least 2 training images; got {all.shape[0]}.");
            _network.FitDensity(all);
        }
        finally
        {
            foreach (var e in embeddings) e.Dispose();
        }
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => MapsAndScores(images, frozen).Maps;

    /// <summary>The Mahalanobis distances [N] as scores and as one-cell maps [N, 1, 1] (upsampled: the score everywhere).</summary>
    protected override (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var scores = _network.Scores(images!);
        return (scores.reshape(-1, 1, 1), scores);
    }

    /// <summary>Rebuilds a saved CutPaste on <paramref name="extractor"/>; a file whose density was never fitted is corrupt.</summary>
    public static CutPasteDetector Restore(ModelArchiveReader archive, CutPasteOptions options, IFeatureExtractor extractor)
    {
        var detector = Restored(new CutPasteDetector(extractor, options, seed: 0), archive);
        if (detector._network.HasDensity) return detector;
        detector.Dispose();
        throw archive.Corrupt("the CutPaste density (mean and precision) holds no fitted values");
    }
}
