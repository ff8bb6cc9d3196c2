using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// RegAD (Huang et al., "Registration based Few-Shot Anomaly Detection", ECCV 2022): the ImageNet ResNet18 with a
/// spatial transformer after each of its first three stages is trained, with a siamese encoder and predictor, to
/// register images of the same category onto each other (symmetric negative cosine, SimSiam style) on categories
/// other than the target's (<see cref="RegAdTrainer"/>). The target's few normal images (the support set), each
/// augmented 22 ways as the official test does, give a Gaussian per position of the registered layer1–3 features
/// (PaDiM's model); a test position's score is its Mahalanobis distance, the map is smoothed and the image score is its maximum.
/// </summary>
public sealed class RegAdDetector : TrainedDetector
{
    public const string ModelName = "regad";
    private readonly RegAdNetwork _network;

    public RegAdDetector(IFeatureExtractor extractor, RegAdOptions options, long seed) : base(extractor, options)
    {
        var full = TrainableResNet.CopyOf(extractor, "RegAD", "to put spatial transformers between its stages and train them with it, as the official code does");
        try
        {
            var backbone = FirstStages(full);
            try
            {
                int total = Enumerable.Range(1, 3).Sum(backbone.Architecture.StageChannels);
                int d = options.Dimensions ?? total;
                if (d > total) throw new VigilInputException($"RegAD dims={d} exceed the {total} channels of layers 1–3; choose at most {total}, or none for all.");
                // PaDiM's seeded random subset (the same channels as PaDiM's for the same seed), sorted; all channels by default.
                using var generator = new Generator((ulong)seed);
                using var channels = d == total ? arange(total) : randperm(total, generator: generator).narrow(0, 0, d).sort().Values;
                _network = new RegAdNetwork(backbone, Preprocessing.OutputHeight, Preprocessing.OutputWidth, options.Stn, channels, seed);
            }
            catch
            {
                backbone.Dispose();
                throw;
            }
        }
        finally
        {
            full.Dispose();
        }
        _network.eval();
    }

    /// <summary>A ResNet of the stem and stages 1–3 with <paramref name="full"/>'s weights (stn.py builds no stage 4).</summary>
    private static ResNet FirstStages(ResNet full)
    {
        var truncated = new ResNet(full.Architecture, classes: 0, stages: 3);
        var source = full.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, tensor) in truncated.state_dict()) tensor.copy_(source[key]);
        return truncated;
    }

    public override string Model => ModelName;
    public new RegAdOptions Options => (RegAdOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("regad", _network)];

    public override bool NeedsImages => true;

    protected override double MapSigma => Options.MapSigma;

    public override string StateSummary => base.StateSummary + (_network.IsFitted ? ", support Gaussians fitted" : ", no support Gaussians yet");

    /// <summary>Nothing is frozen: the backbone trains with its transformers.</summary>
    public override IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images) => [];

    /// <summary>RegAD does not train on batches of the target's images but on episodes of other categories (<see cref="RegistrationLoss"/>).</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) =>
        throw new NotSupportedException("RegAD trains on registration episodes of other categories (RegAdTrainer), not on batches of the target's images.");

    /// <summary>The registration loss of an episode: preprocessed queries [B, 3, H, W], their supports [B·K, 3, H, W].</summary>
    internal Tensor RegistrationLoss(Tensor queries, Tensor supports) => _network.RegistrationLoss(queries, supports);

    internal nn.Module Network => _network;

    /// <summary>
    /// Fits the Gaussians on the support set (the target's normal training images, each augmented as the official test
    /// does when <see cref="RegAdOptions.SupportAugment"/>), batch by batch with PaDiM's exact merge of statistics.
    /// </summary>
    internal void FitSupport(IReadOnlyList<Sample> support, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        var o = Options;
        int least = o.SupportAugment ? 1 : 2;
        if (support.Count < least)
            throw new VigilInputException($"RegAD fits a Gaussian per position to its support images: it needs at least {least} training image{(least > 1 ? "s" : "")}" +
                $"{(o.SupportAugment ? "" : " without support_augment")}; got {support.Count}.");
        _network.eval();
        using var noGrad = no_grad();
        PositionGaussians? statistics = null;
        try
        {
            // Source images per load: their augmented copies fill about one network batch.
            int perLoad = Math.Max(1, o.SupportBatch / (o.SupportAugment ? SupportAugmentation.Copies : 1));
            for (int start = 0; start < support.Count; start += perLoad)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = support.Skip(start).Take(perLoad).ToList();
                var images = new ImageTensor[batch.Count];
                Parallel.For(0, batch.Count, i => images[i] = ImageOps.ToRgb(batch[i].LoadImage(), $"Training image '{batch[i].SourcePath}'"));
                var inputs = TrainingInputs.ToBatch(Preprocessing, images);
                if (o.SupportAugment) inputs = Normalise(SupportAugmentation.Apply(Denormalise(inputs)));
                for (long first = 0; first < inputs.shape[0]; first += o.SupportBatch)
                {
                    // A scope per network batch: a forward pass keeps its intermediate maps until its scope ends.
                    using var chunkScope = NewDisposeScope();
                    var embeddings = _network.Embeddings(inputs.narrow(0, first, Math.Min(o.SupportBatch, inputs.shape[0] - first)));
                    statistics ??= PositionGaussians.Empty(embeddings.shape[1], embeddings.shape[2]);
                    statistics.AddSamples(embeddings);
                }
                progress?.Report(new WorkProgress("support", start + batch.Count, support.Count));
            }
            cancel.ThrowIfCancellationRequested();
            var (mean, inverse) = GaussianModel(statistics!, o.Regularisation);
            using (mean)
            using (inverse)
                _network.SetGaussians(mean, inverse);
        }
        finally
        {
            statistics?.Dispose();
        }
    }

    /// <summary>
    /// PaDiM's model of the statistics (<see cref="PositionGaussians.ToModel"/>: float32 mean, inverse of scatter / (N − 1)
    /// + ε·I in float64), inverted one position at a time as the official code does: libtorch's batched inverse runs
    /// LAPACK on its threads at once, which corrupts the LU pivots (an error, or a crash) for matrices of 448 channels
    /// on 2 threads here.
    /// </summary>
    private static (Tensor Mean, Tensor Inverse) GaussianModel(PositionGaussians statistics, double regularisation)
    {
        long positions = statistics.Mean.shape[0], d = statistics.Mean.shape[1];
        var inverse = empty(positions, d, d);
        using var ridge = eye(d, dtype: ScalarType.Float64) * regularisation;
        for (long p = 0; p < positions; p++)
        {
            using var scope = NewDisposeScope();
            inverse[p].copy_(linalg.inv(statistics.Scatter[p] / (statistics.Count - 1) + ridge));
        }
        return (statistics.Mean.to_type(ScalarType.Float32), inverse);
    }

    /// <summary>Preprocessed images back to RGB values in [0, 1] (the support augmentation's grey copy works on those).</summary>
    private Tensor Denormalise(Tensor images) => images * Channel(Preprocessing.Std) + Channel(Preprocessing.Mean);

    private Tensor Normalise(Tensor images) => (images - Channel(Preprocessing.Mean)) / Channel(Preprocessing.Std);

    private static Tensor Channel(IReadOnlyList<float> values) => tensor(values.ToArray()).reshape(1, -1, 1, 1);

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => _network.Distances(images!);

    /// <summary>Rebuilds a saved RegAD on <paramref name="extractor"/>; a file without fitted Gaussians is corrupt.</summary>
    public static RegAdDetector Restore(ModelArchiveReader archive, RegAdOptions options, IFeatureExtractor extractor)
    {
        var detector = Restored(new RegAdDetector(extractor, options, seed: 0), archive);
        if (detector._network.IsFitted) return detector;
        detector.Dispose();
        throw archive.Corrupt("the RegAD support Gaussians were never fitted");
    }
}
