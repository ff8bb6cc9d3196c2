using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.DevNet;

/// <summary>
/// DevNet, deviation networks (Pang et al., KDD 2019; the image version of Pang, Ding, Shen and van den Hengel,
/// "Explainable Deep Few-shot Anomaly Detection with Deviation Networks", 2021), as the official code computes it: a
/// 1×1 convolution turns the backbone's last feature map into a score map, the image score is the mean of the top 10 %
/// of its absolute scores (top-k multiple-instance learning), and the deviation loss, trained on balanced batches of
/// normal images and a few labelled anomalies, pulls normal scores to the mean of an N(0, 1) prior and pushes
/// anomalous ones at least <see cref="DevNetOptions.Margin"/> standard deviations above it. Here the backbone is frozen
/// and only the convolution is trained (docs/models.md). DevNet is an image-level method: its anomaly map is the
/// absolute score map upsampled, a coarse localisation.
/// </summary>
public sealed class DevNetDetector : TrainedDetector, ISupervisedNetwork
{
    public const string ModelName = "devnet";
    private readonly Conv2d _head;

    public DevNetDetector(IFeatureExtractor extractor, DevNetOptions options, long seed) : base(extractor, options)
    {
        int layer = FeatureMaps.LayerIndices(extractor, [options.Layer], ModelName)[0];
        int channels = extractor.LayerShapes[layer].Channels;
        _head = nn.Conv2d(channels, 1, kernel_size: 1);
        // nn.Conv2d's default initialisation (kaiming_uniform_ with a = √5 and its bias rule): weights and bias uniform ±1/√fan_in.
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        double bound = 1 / Math.Sqrt(channels);
        _head.weight!.uniform_(-bound, bound, generator);
        _head.bias!.uniform_(-bound, bound, generator);
    }

    public override string Model => ModelName;
    public new DevNetOptions Options => (DevNetOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("head", _head)];

    public override bool NeedsImages => false;

    public int StepsPerEpoch => Options.StepsPerEpoch;

    protected override double MapSigma => 0;

    public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Tensor labels, Generator generator) =>
        DeviationLoss(ImageScores(_head.forward(frozen[0]).squeeze(1), Options.TopK), labels,
            randn(new long[] { Options.PriorSamples }, generator: generator), Options.Margin);

    /// <summary>The loss of normal images (the validation images): every label 0.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) =>
        Loss(images, frozen, zeros(frozen[0].shape[0]), generator);

    /// <summary>|score map| with top-k pooling (the values it ranks), the score map itself without (topk = 0 averages raw scores).</summary>
    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var scores = _head.forward(frozen[0]).squeeze(1);
        return Options.TopK > 0 ? scores.abs() : scores;
    }

    protected override float ImageScore(Tensor gridScores, ScoreMap view) =>
        ImageScores(gridScores.unsqueeze(0), Options.TopK).item<float>();

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
