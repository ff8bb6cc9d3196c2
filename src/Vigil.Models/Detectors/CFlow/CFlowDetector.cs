using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Components.Flows;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.CFlow;

/// <summary>
/// CFlow-AD (Gudovskiy et al., WACV 2022) as the official code computes it: for each frozen layer, a conditional flow
/// (<see cref="CFlowDecoder"/>) over the layer's feature vectors ("fibres"), conditioned on the 2D positional encoding
/// of their position. Training (train.py train_meta_epoch): per batch and layer, the batch's positions in a random
/// order, one optimizer step per fibre batch of N on the mean of −log σ(log p / C), the remainder left out. Test
/// (test_meta_epoch, train): each layer's log-likelihood per dimension, minus its maximum, exponentiated, upsampled
/// (bilinear, align_corners) and summed over layers; the anomaly map is the maximum minus that sum, the image score the
/// map's maximum. The official maxima are taken over the whole test set; here they are fixed after training, over
/// the training images (<see cref="ConditionalFlowDetector.FinishTraining"/>), so an image's map does not depend on the others scored with it.
/// </summary>
public sealed class CFlowDetector(IFeatureExtractor extractor, CFlowOptions options, long seed)
    : ConditionalFlowDetector(extractor, options, seed, ModelName)
{
    public const string ModelName = "cflow";

    public override string Model => ModelName;
    public new CFlowOptions Options => (CFlowOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("cflow", Flows)];

    /// <summary>Rebuilds a saved CFlow on <paramref name="extractor"/>.</summary>
    public static CFlowDetector Restore(ModelArchiveReader archive, CFlowOptions options, IFeatureExtractor extractor) =>
        Restored(new CFlowDetector(extractor, options, seed: 0), archive);
}
