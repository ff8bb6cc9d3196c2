using TorchSharp;
using Vigil.Backbones;
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
public sealed class BgadDetector(IFeatureExtractor extractor, BgadOptions options, long seed)
    : ConditionalFlowDetector(extractor, options, seed, ModelName), ISupervisedNetwork
{
    public const string ModelName = "bgad";

    public override string Model => ModelName;
    public new BgadOptions Options => (BgadOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("bgad", Flows)];

    public SupervisedSampling Sampling => new PooledSampling(Options.AnomalyReuse, Options.NormalOnlyEpochs);

    public bool NeedsMasks => true;

    /// <summary>
    /// The later meta-epochs: one step per fibre batch, with the boundary loss where the batch holds defective
    /// positions. A fibre batch of defective positions only is skipped (the official code has no boundary without normal positions).
    /// </summary>
    public void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step) =>
        Flows.FibreBatches(Layers(batch.Frozen), batch.Masks ?? throw new ArgumentException("BGAD's batches carry masks.", nameof(batch)), Options.FiberBatch, generator,
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

    /// <summary>Rebuilds a saved BGAD on <paramref name="extractor"/>.</summary>
    public static BgadDetector Restore(ModelArchiveReader archive, BgadOptions options, IFeatureExtractor extractor) =>
        Restored(new BgadDetector(extractor, options, seed: 0), archive);
}
