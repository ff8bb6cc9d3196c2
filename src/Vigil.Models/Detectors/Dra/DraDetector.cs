using TorchSharp;
using Vigil.Backbones;
using Vigil.Detectors.DevNet;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Training;
using static TorchSharp.torch;
using SyntheticCutPaste = Vigil.Data.Synthetic.CutPaste;

namespace Vigil.Detectors.Dra;

/// <summary>
/// DRA (Ding, Pang and Shen, "Catching Both Gray and Black Swans: Open-set Supervised Anomaly Detection", CVPR 2022)
/// as the official code computes it (modeling/net.py, train.py, datasets/mvtecad.py, datasets/cutmix.py): the
/// fine-tuned ResNet18's last feature map of the image and of its half-size copy feed four heads (<see cref="DraHeads"/>),
/// each trained with DevNet's deviation loss on its own targets (<see cref="Targets"/>): the holistic head learns
/// normality, the seen head the labelled anomalies, the pseudo head CutMix pseudo anomalies made from normal training
/// images (label 2), the composite head every anomaly as a residual against normal reference features. The image score
/// is −holistic + seen + pseudo + composite, each the mean over the scales. Image-level: the map is the full-size
/// scale's seen-head |score| map upsampled.
/// </summary>
public sealed class DraDetector : TrainedDetector, ISupervisedNetwork
{
    public const string ModelName = "dra";
    private const int Stage = 4;
    private readonly ResNet _backbone;
    private readonly DraHeads _heads;
    private readonly Tensor _mean, _std; // the preprocessing's normalisation, [1, 3, 1, 1]

    public DraDetector(IFeatureExtractor extractor, DraOptions options, long seed) : base(extractor, options)
    {
        _backbone = TrainableResNet.CopyOf(extractor, "DRA", "to fine-tune it and to score the half-size image, as the official code does");
        try
        {
            int channels = _backbone.Architecture.StageChannels(Stage);
            var shapes = Enumerable.Range(0, options.Scales)
                .Select(s => new long[] { channels, Layer4Size(Preprocessing.OutputHeight >> s), Layer4Size(Preprocessing.OutputWidth >> s) }).ToList();
            _heads = new DraHeads(channels, shapes, options.TopK, seed);
        }
        catch
        {
            _backbone.Dispose();
            throw;
        }
        if (!options.FineTune) TrainableResNet.Freeze(_backbone);
        _mean = tensor(Preprocessing.Mean.ToArray()).reshape(1, -1, 1, 1);
        _std = tensor(Preprocessing.Std.ToArray()).reshape(1, -1, 1, 1);
    }

    public override string Model => ModelName;
    public new DraOptions Options => (DraOptions)base.Options;

    /// <summary>The fine-tuned backbone is trained and saved with the heads; a frozen one is rebuilt from the run's backbone.</summary>
    public override IReadOnlyList<(string Name, nn.Module Module)> Trained =>
        Options.FineTune ? [("backbone", _backbone), ("heads", _heads)] : [("heads", _heads)];

    /// <summary>The pseudo anomalies are made from the preprocessed images, with a frozen backbone too.</summary>
    public override bool NeedsImages => true;

    /// <summary>dataloaders/utlis.py: n_normal = 2 · batch_size // 3 (32 of 48), the rest labelled anomalies.</summary>
    public SupervisedSampling Sampling => new BalancedSampling(Options.StepsPerEpoch, NormalParts: 2, AllParts: 3);

    protected override double MapSigma => 0;

    public override string StateSummary => base.StateSummary + (_heads.HasReference ? ", test reference fitted" : ", no test reference yet");

    /// <summary>With a frozen backbone: its feature map at each scale, computed once per image (and cached by the training).</summary>
    public override IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images)
    {
        if (Options.FineTune) return [];
        using var noGrad = no_grad();
        return Features(TrainingInputs.ToBatch(Preprocessing, images.Select((image, i) => ImageOps.ToRgb(image, $"Image #{i}")).ToList()));
    }

    public void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step) =>
        step(Loss(batch.Images!, batch.Frozen, labels, generator));

    /// <summary>The loss of normal images (the validation images): every label 0, half of them made pseudo anomalies.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) =>
        Loss(images!, frozen, zeros(images!.shape[0]), generator);

    /// <summary>
    /// train.py's step: normal images become pseudo anomalies (label 2), the references are drawn, the four heads score
    /// the batch at each scale, and the deviation losses of the heads on their targets are summed.
    /// </summary>
    private Tensor Loss(Tensor images, IReadOnlyList<Tensor> frozen, Tensor labels, Generator generator)
    {
        var o = Options;
        var normal = labels.eq(0).nonzero().squeeze(1);
        // The references: nRef of the batch's normal images as they are (the official code draws them from a loader of its own).
        var references = normal.index_select(0, randperm(normal.shape[0], generator: generator)[..(int)Math.Min(o.References, normal.shape[0])]);
        var (pseudoImages, pseudo) = PseudoAnomalies(images, normal, generator);
        var withPseudo = labels.index_copy(0, pseudo, full(pseudo.shape[0], 2f));
        Tensor[] features, referenceFeatures;
        if (o.FineTune)
        {
            // As net.py: the references and the batch pass through the backbone together (one BatchNorm batch).
            var input = pseudo.shape[0] > 0 ? images.index_copy(0, pseudo, pseudoImages) : images;
            var all = Features(cat([input.index_select(0, references), input], 0));
            long r = references.shape[0];
            referenceFeatures = all.Select(f => f[..(int)r]).ToArray();
            features = all.Select(f => f[(int)r..]).ToArray();
        }
        else
        {
            Tensor[] pseudoFeatures;
            using (no_grad()) pseudoFeatures = pseudo.shape[0] > 0 ? Features(pseudoImages) : [];
            referenceFeatures = frozen.Select(f => f.index_select(0, references)).ToArray();
            features = frozen.Select((f, s) => pseudo.shape[0] > 0 ? f.index_copy(0, pseudo, pseudoFeatures[s]) : f).ToArray();
        }
        var scores = HeadScores(features, s => referenceFeatures[s].mean([0]));
        var targets = Targets(withPseudo);
        var selected = new[] { null, withPseudo.ne(2), withPseudo.ne(1), null };
        Tensor loss = zeros(1);
        for (int head = 0; head < 4; head++)
        {
            var headScores = selected[head] is { } mask ? scores[head][mask] : scores[head];
            if (headScores.shape[0] == 0) continue;
            loss = loss + DevNetDetector.DeviationLoss(headScores, targets[head], randn(new long[] { o.PriorSamples }, generator: generator), o.Margin);
        }
        return loss.squeeze();
    }

    /// <summary>
    /// train.py generate_target: the targets of the holistic, seen, pseudo and composite heads for labels [N] (0 normal,
    /// 1 labelled anomaly, 2 pseudo anomaly): label = 0 on all; label ≠ 0 on the images of label ≠ 2; label ≠ 0 on those
    /// of label ≠ 1; label ≠ 0 on all. As floats.
    /// </summary>
    public static Tensor[] Targets(Tensor labels)
    {
        var anomalous = labels.ne(0).to_type(ScalarType.Float32);
        return [labels.eq(0).to_type(ScalarType.Float32), anomalous[labels.ne(2)], anomalous[labels.ne(1)], anomalous];
    }

    /// <summary>
    /// datasets/mvtecad.py: each normal image becomes, with chance <see cref="DraOptions.PseudoRate"/>, a CutMix of a
    /// random normal image of the batch (<see cref="SyntheticCutPaste.Patch"/>: ColorJitter 0.1, area 2–15 %, aspect
    /// 0.3). Returns the pseudo anomalies preprocessed [P, 3, H, W] and their batch positions [P]; draws from <paramref name="generator"/>.
    /// </summary>
    private (Tensor Images, Tensor Positions) PseudoAnomalies(Tensor images, Tensor normal, Generator generator)
    {
        long n = normal.shape[0];
        var chosen = rand(n, generator: generator).lt(Options.PseudoRate);
        var positions = normal[chosen];
        var sources = normal.index_select(0, randint(n, [positions.shape[0]], generator: generator));
        ulong batchSeed = (ulong)randint(long.MaxValue, [1], generator: generator).item<long>();
        int count = (int)positions.shape[0], c = (int)images.shape[1], h = (int)images.shape[2], w = (int)images.shape[3], size = c * h * w;
        if (count == 0) return (empty(0, c, h, w), positions);
        float[] raw;
        using (no_grad()) raw = (images.index_select(0, sources) * _std + _mean).contiguous().data<float>().ToArray();
        var data = new float[count * size];
        Parallel.For(0, count, i =>
        {
            var image = new ImageTensor(c, h, w, raw[(i * size)..((i + 1) * size)]);
            SyntheticCutPaste.Patch(image, SeededRandom.Derive(batchSeed, i), Options.Jitter).Image.Data.CopyTo(data, i * size);
        });
        return ((tensor(data, [count, c, h, w]) - _mean) / _std, positions);
    }

    /// <summary>The image scores [N] of the holistic, seen, pseudo and composite heads, each the mean over the scales.</summary>
    private Tensor[] HeadScores(IReadOnlyList<Tensor> features, Func<int, Tensor> reference)
    {
        var perScale = features.Select((f, s) => new[] { _heads.Holistic(f), _heads.Seen(f), _heads.Pseudo(f), _heads.Composite(f, reference(s)) }).ToList();
        return Enumerable.Range(0, 4).Select(head => stack(perScale.Select(p => p[head]).ToArray(), 1).mean([1])).ToArray();
    }

    /// <summary>train.py eval: the test reference is the mean feature map of the normal training images at each scale.</summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training)
    {
        Tensor[]? sums = null;
        long count = 0;
        foreach (var batch in training)
        {
            var features = Options.FineTune ? Features(batch.Images!) : batch.Frozen;
            var batchSums = features.Select(f => f.sum([0])).ToArray();
            sums = sums is null ? batchSums.Select(t => t.DetachFromDisposeScope()).ToArray()
                : sums.Select((t, s) => { var sum = (t + batchSums[s]).DetachFromDisposeScope(); t.Dispose(); return sum; }).ToArray();
            count += features[0].shape[0];
        }
        if (sums is null) throw new VigilInputException("DRA's test reference is the mean feature map of the normal training images; there were none.");
        _heads.SetReference(sums.Select(t => t / count).ToArray());
        foreach (var t in sums) t.Dispose();
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => MapsAndScores(images, frozen).Maps;

    /// <summary>train.py eval: −holistic + seen + pseudo + composite; the map is the full-size scale's seen |score| map.</summary>
    protected override (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var features = Options.FineTune ? Features(images!) : frozen;
        var heads = HeadScores(features, _heads.Reference);
        return (_heads.SeenMaps(features[0]).abs(), -heads[0] + heads[1] + heads[2] + heads[3]);
    }

    /// <summary>The backbone's layer4 map at each scale (<see cref="TrainableResNet.ScaledFeatures"/>, as net.py).</summary>
    private Tensor[] Features(Tensor images) => TrainableResNet.ScaledFeatures(_backbone, images, Stage, Options.Scales);

    /// <summary>A ResNet's layer4 side for an input side: five stride-2 stages (conv1, maxpool, layer2..4), each ⌈n / 2⌉.</summary>
    private static long Layer4Size(int side)
    {
        long n = side;
        for (int i = 0; i < 5; i++) n = (n + 1) / 2;
        return n;
    }

    /// <summary>Rebuilds a saved DRA on <paramref name="extractor"/>; a file whose test reference was never fitted is corrupt.</summary>
    public static DraDetector Restore(ModelArchiveReader archive, DraOptions options, IFeatureExtractor extractor)
    {
        var detector = Restored(new DraDetector(extractor, options, seed: 0), archive);
        if (detector._heads.HasReference) return detector;
        detector.Dispose();
        throw archive.Corrupt("the DRA test reference holds no fitted values");
    }
}
