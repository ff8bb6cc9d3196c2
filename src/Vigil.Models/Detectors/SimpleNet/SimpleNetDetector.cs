using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.SimpleNet;

/// <summary>
/// SimpleNet (Liu et al., CVPR 2023) as the official code computes it: the frozen backbone's layer2+3 features,
/// locally aggregated as PatchCore (<see cref="PatchEmbedding"/>), pass a linear feature adaptor; the same adapted
/// features plus Gaussian noise (σ 0.015) serve as anomalous ones, and an MLP discriminator learns to score normal
/// features above th and noisy ones below −th (truncated L1 loss). The adaptor trains with AdamW (lr 1e-4), the
/// discriminator with Adam (lr 2e-4), both stepped on each batch's loss. A position's anomaly score is the negative
/// discriminator score; the map is upsampled and smoothed (σ 4), the image score is the largest grid score.
/// </summary>
public sealed class SimpleNetDetector : TrainedDetector
{
    public const string ModelName = "simplenet";
    private readonly int[] _layerIndices;
    private readonly Sequential _adaptor;
    private readonly Sequential _discriminator;

    public SimpleNetDetector(IFeatureExtractor extractor, SimpleNetOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        using var generator = new Generator((ulong)seed);
        _adaptor = SimpleNetNetworks.Adaptor(options.TargetEmbedDimension, options.AdaptorLayers, generator);
        _discriminator = SimpleNetNetworks.Discriminator(options.TargetEmbedDimension, options.DiscriminatorLayers, options.DiscriminatorHidden, generator);
    }

    public override string Model => ModelName;
    public new SimpleNetOptions Options => (SimpleNetOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("adaptor", _adaptor), ("discriminator", _discriminator)];

    /// <summary>simplenet.py: proj_opt = AdamW(pre_projection.parameters(), lr · 0.1) beside the discriminator's Adam.</summary>
    public override IReadOnlyDictionary<string, OptimizerSettings> OwnOptimizers => Options.AdaptorLayers == 0
        ? new Dictionary<string, OptimizerSettings>()
        : new Dictionary<string, OptimizerSettings>
        {
            ["adaptor"] = new(OptimizerKind.AdamW, Options.AdaptorLearningRate, Options.AdaptorWeightDecay, Options.Beta1, Options.Beta2),
        };

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    /// <summary>
    /// The locally aggregated patch features [N, target_dim, h, w] (<see cref="PatchEmbedding"/>): the frozen part, so
    /// they are computed once per training image (simplenet.py recomputes them, with the same values, every step).
    /// </summary>
    public override IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images)
    {
        using var scope = NewDisposeScope();
        var layers = Extractor.Extract(images);
        var (features, h, w) = PatchEmbedding.Embed(_layerIndices.Select(i => layers[i]).ToList(), Options.PatchSize,
            Options.PretrainEmbedDimension, Options.TargetEmbedDimension);
        return [features.permute(0, 2, 1).reshape(features.shape[0], features.shape[2], h, w).contiguous().MoveToOuterDisposeScope()];
    }

    /// <summary>
    /// _train_discriminator: the adapted features of every position, the same plus N(0, σ²) noise, both scored in one
    /// discriminator batch (so BatchNorm sees both), the truncated L1 loss.
    /// </summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var normal = Adapted(frozen[0]);
        var anomalous = normal + randn(normal.shape, generator: generator) * Options.NoiseStd;
        var scores = _discriminator.forward(cat([normal, anomalous], 0));
        long n = normal.shape[0];
        return SimpleNetNetworks.TruncatedL1(scores[..(int)n], scores[(int)n..], Options.Margin);
    }

    /// <summary>_predict: the negative discriminator score of each position's adapted feature, [N, h, w].</summary>
    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var features = frozen[0];
        return (-_discriminator.forward(Adapted(features))).reshape(features.shape[0], features.shape[2], features.shape[3]);
    }

    /// <summary>PatchMaker.score with top_k 0: the largest patch score, before upsampling and smoothing.</summary>
    protected override float ImageScore(Tensor gridScores, ScoreMap view) => gridScores.max().item<float>();

    /// <summary>The adapted patch features [N·h·w, target_dim] of aggregated features [N, target_dim, h, w], image-major, row-major positions.</summary>
    private Tensor Adapted(Tensor features)
    {
        var rows = FeatureMaps.ToPositionRows(features).reshape(-1, features.shape[1]);
        return Options.AdaptorLayers == 0 ? rows : _adaptor.forward(rows);
    }

    /// <summary>Rebuilds a saved SimpleNet on <paramref name="extractor"/>.</summary>
    public static SimpleNetDetector Restore(ModelArchiveReader archive, SimpleNetOptions options, IFeatureExtractor extractor) =>
        Restored(new SimpleNetDetector(extractor, options, seed: 0), archive);
}
