using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Components.Flows;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.Bgad;

/// <summary>
/// BGAD, explicit boundary-guided semi-push-pull contrastive learning (Yao et al., CVPR 2023), as the official code
/// computes it (xcyao00/BGAD, engines/bgad_fas_train_engine.py, losses/losses.py): CFlow-AD's conditional flows on
/// frozen layer1..layer3 features, trained on normal images and a few labelled anomalies with their masks. The first
/// meta-epoch trains on normal images alone with the maximum-likelihood loss; afterwards each fibre batch of 4096
/// positions without a defective position gets the (focal-weighted) maximum-likelihood loss, and one with defective
/// positions adds the semi-push-pull loss: normal positions below the boundary b_n (the normal log-likelihoods'
/// β-quantile) are pulled above it, defective ones above b_n − τ pushed below. The map and image score are CFlow's
/// (<see cref="ConditionalFlows.AnomalyMaps"/>; normalised on the training images).
/// </summary>
public sealed class BgadDetector : TrainedDetector, ISupervisedNetwork
{
    public const string ModelName = "bgad";
    private readonly ConditionalFlows _network;
    private readonly int[] _layerIndices;

    public BgadDetector(IFeatureExtractor extractor, BgadOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        _network = new ConditionalFlows(_layerIndices.Select(i => extractor.LayerShapes[i].Channels).ToList(), seed, options.CouplingBlocks, options.ClampAlpha, options.ConditionChannels);
    }

    public override string Model => ModelName;
    public new BgadOptions Options => (BgadOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("bgad", _network)];

    public override bool NeedsImages => false;

    public SupervisedSampling Sampling => new PooledSampling(Options.AnomalyReuse, Options.NormalOnlyEpochs);

    public bool NeedsMasks => true;

    protected override double MapSigma => Options.MapSigma;

    /// <summary>The first meta-epoch (normal images only): one step per fibre batch on the plain mean of −log σ(log p / C).</summary>
    public override void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step) =>
        _network.FibreBatches(Layers(frozen), null, Options.FiberBatch, generator, (logLikelihoods, _) => step(CFlowDecoder.Loss(logLikelihoods).mean()));

    /// <summary>
    /// The later meta-epochs: one step per fibre batch, with the boundary loss where the batch holds defective
    /// positions. A fibre batch of defective positions only is skipped (the official code has no boundary without normal positions).
    /// </summary>
    public void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step) =>
        _network.FibreBatches(Layers(batch.Frozen), batch.Masks ?? throw new ArgumentException("BGAD's batches carry masks.", nameof(batch)), Options.FiberBatch, generator,
            (logLikelihoods, defective) =>
            {
                if (!defective!.all().item<bool>()) step(Loss(logLikelihoods, defective));
            });

    /// <summary>
    /// A fibre batch's loss (train_meta_epoch after the first meta-epoch): the maximum-likelihood loss of its normal
    /// positions, focal-weighted when set, plus λ times the semi-push-pull loss when it holds defective positions.
    /// </summary>
    private Tensor Loss(Tensor logLikelihoods, Tensor defective)
    {
        var o = Options;
        if (!defective.any().item<bool>())
        {
            var loss = CFlowDecoder.Loss(logLikelihoods);
            return (o.FocalWeighting ? loss * BoundaryGuidedLoss.NormalWeights(logLikelihoods, o.Normalizer) : loss).mean();
        }
        var normal = logLikelihoods.masked_select(defective.logical_not());
        var abnormal = logLikelihoods.masked_select(defective);
        var normalWeights = o.FocalWeighting ? BoundaryGuidedLoss.NormalWeights(normal, o.Normalizer) : null;
        var abnormalWeights = o.FocalWeighting ? BoundaryGuidedLoss.AbnormalWeights(abnormal, o.Normalizer) : null;
        var likelihood = CFlowDecoder.Loss(normal);
        if (normalWeights is not null) likelihood *= normalWeights;
        var boundaries = BoundaryGuidedLoss.Boundaries(normal, o.PositionBeta, o.MarginTau, o.Normalizer);
        return likelihood.mean() + o.PushPullWeight * BoundaryGuidedLoss.SemiPushPull(normal, abnormal, boundaries, o.Normalizer, normalWeights, abnormalWeights);
    }

    /// <summary>validate's loss on normal images: the mean of −log σ(log p / C) over every position of every layer.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => _network.MeanLoss(Layers(frozen));

    /// <summary>The map normalisation from the trained network on the normal training images (<see cref="ConditionalFlows.Normalise"/>).</summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training) =>
        _network.Normalise(training.Select(b => Layers(b.Frozen)), Preprocessing.OutputHeight, Preprocessing.OutputWidth, Options.BatchSize);

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) =>
        _network.AnomalyMaps(Layers(frozen), Preprocessing.OutputHeight, Preprocessing.OutputWidth);

    private Tensor[] Layers(IReadOnlyList<Tensor> frozen) => [.. _layerIndices.Select(i => frozen[i])];

    /// <summary>Rebuilds a saved BGAD on <paramref name="extractor"/>.</summary>
    public static BgadDetector Restore(ModelArchiveReader archive, BgadOptions options, IFeatureExtractor extractor) =>
        Restored(new BgadDetector(extractor, options, seed: 0), archive);
}
