using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.DevNet;

/// <summary>
/// DevNet, deviation networks (Pang et al., KDD 2019; the image version of Pang, Ding, Shen and van den Hengel,
/// "Explainable Deep Few-shot Anomaly Detection with Deviation Networks", 2021), as the official code computes it
/// (modeling/net.py, modeling/layers/deviation_loss.py): the ResNet18's last feature map of the image and of its
/// half-size copy each go through a 1×1 convolution to a score map; each map's image score is the mean of its top 10 %
/// absolute scores (top-k multiple-instance learning), and the image score is their mean over the scales. The deviation
/// loss, on balanced batches of normal images and a few labelled anomalies, pulls normal scores to the mean of an
/// N(0, 1) prior and pushes anomalous ones at least <see cref="DevNetOptions.Margin"/> standard deviations above it.
/// The backbone is fine-tuned with the convolution, as officially, or frozen (<see cref="DevNetOptions.FineTune"/>).
/// DevNet is an image-level method: its anomaly map is the full-size scale's absolute score map upsampled, a coarse localisation.
/// </summary>
public sealed class DevNetDetector : TrainedDetector, ISupervisedNetwork
{
    public const string ModelName = "devnet";
    private readonly ResNet _backbone;
    private readonly Conv2d _head;
    private readonly int _stage;

    public DevNetDetector(IFeatureExtractor extractor, DevNetOptions options, long seed) : base(extractor, options)
    {
        _stage = options.Layer switch
        {
            "layer1" => 1, "layer2" => 2, "layer3" => 3, "layer4" => 4,
            _ => throw new VigilInputException($"DevNet layer '{options.Layer}' is not a ResNet stage (layer1..layer4; layer4 in the paper)."),
        };
        _backbone = TrainableResNet.CopyOf(extractor, "DevNet", "to fine-tune it and to score the half-size image, as the official code does");
        try
        {
            int channels = _backbone.Architecture.StageChannels(_stage);
            _head = nn.Conv2d(channels, 1, kernel_size: 1);
            // nn.Conv2d's default initialisation (kaiming_uniform_ with a = √5 and its bias rule): weight and bias uniform ±1/√fan_in.
            using var generator = new Generator((ulong)seed);
            using var noGrad = no_grad();
            double bound = 1 / Math.Sqrt(channels);
            _head.weight!.uniform_(-bound, bound, generator);
            _head.bias!.uniform_(-bound, bound, generator);
        }
        catch
        {
            _backbone.Dispose();
            throw;
        }
        if (!options.FineTune) TrainableResNet.Freeze(_backbone);
    }

    public override string Model => ModelName;
    public new DevNetOptions Options => (DevNetOptions)base.Options;

    /// <summary>The fine-tuned backbone is trained and saved with the head; a frozen one is rebuilt from the run's backbone.</summary>
    public override IReadOnlyList<(string Name, nn.Module Module)> Trained =>
        Options.FineTune ? [("backbone", _backbone), ("head", _head)] : [("head", _head)];

    public override bool NeedsImages => Options.FineTune;

    public SupervisedSampling Sampling => new BalancedSampling(Options.StepsPerEpoch);

    protected override double MapSigma => 0;

    /// <summary>With a frozen backbone: its feature map at each scale, computed once per image (and cached by the training).</summary>
    public override IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images)
    {
        if (Options.FineTune) return [];
        using var noGrad = no_grad();
        return Features(TrainingInputs.ToBatch(Preprocessing, images.Select((image, i) => ImageOps.ToRgb(image, $"Image #{i}")).ToList()));
    }

    public void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step) =>
        step(Loss(batch.Images, batch.Frozen, labels, generator));

    private Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Tensor labels, Generator generator) =>
        DeviationLoss(ScoresAndMap(images, frozen).Scores, labels, randn(new long[] { Options.PriorSamples }, generator: generator), Options.Margin);

    /// <summary>The loss of normal images (the validation images): every label 0.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        long count = images?.shape[0] ?? frozen[0].shape[0];
        return Loss(images, frozen, zeros(count), generator);
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => ScoresAndMap(images, frozen).Map;

    protected override (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var (scores, map) = ScoresAndMap(images, frozen);
        return (map, scores);
    }

    /// <summary>
    /// Image scores [N] (the mean over scales of each score map's top-k mean) and the full-size scale's map [N, h, w]:
    /// its |scores| with top-k pooling (the values it ranks), the scores themselves without.
    /// </summary>
    private (Tensor Scores, Tensor Map) ScoresAndMap(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var features = Options.FineTune ? Features(images!) : frozen;
        var maps = features.Select(f => _head.forward(f).squeeze(1)).ToList();
        var scores = stack(maps.Select(m => ImageScores(m, Options.TopK)).ToArray(), 1).mean([1]);
        return (scores, Options.TopK > 0 ? maps[0].abs() : maps[0]);
    }

    /// <summary>The backbone's feature map at each scale (<see cref="TrainableResNet.ScaledFeatures"/>).</summary>
    private Tensor[] Features(Tensor images) => TrainableResNet.ScaledFeatures(_backbone, images, _stage, Options.Scales);

    /// <summary>
    /// modeling/net.py: the mean of the ⌊h·w·<paramref name="topK"/>⌋ (at least 1) largest |scores| of each map
    /// [N, h, w]; with <paramref name="topK"/> 0 the mean score. Returns [N].
    /// </summary>
    public static Tensor ImageScores(Tensor maps, double topK)
    {
        var flat = maps.flatten(1);
        if (topK <= 0) return flat.mean([1]);
        int k = Math.Max((int)(flat.shape[1] * topK), 1);
        return flat.abs().topk(k, dim: 1).values.mean([1]);
    }

    /// <summary>
    /// modeling/layers/deviation_loss.py: with dev = (score − mean(prior)) / std(prior) (the prior's sample standard
    /// deviation), the mean over the batch of (1 − y)·|dev| + y·max(0, margin − dev).
    /// </summary>
    public static Tensor DeviationLoss(Tensor scores, Tensor labels, Tensor prior, double margin)
    {
        var deviation = (scores - prior.mean()) / prior.std();
        return ((1 - labels) * deviation.abs() + labels * (margin - deviation).clamp_min(0)).mean();
    }

    /// <summary>Rebuilds a saved DevNet on <paramref name="extractor"/>.</summary>
    public static DevNetDetector Restore(ModelArchiveReader archive, DevNetOptions options, IFeatureExtractor extractor)
        => Restored(new DevNetDetector(extractor, options, seed: 0), archive);
}
