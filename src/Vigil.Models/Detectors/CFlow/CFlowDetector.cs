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
/// the training images (<see cref="FinishTraining"/>), so an image's map does not depend on the others scored with it.
/// </summary>
public sealed class CFlowDetector : TrainedDetector
{
    public const string ModelName = "cflow";
    private readonly ConditionalFlows _network;
    private readonly int[] _layerIndices;

    public CFlowDetector(IFeatureExtractor extractor, CFlowOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        _network = new ConditionalFlows(_layerIndices.Select(i => extractor.LayerShapes[i].Channels).ToList(), seed, options.CouplingBlocks, options.ClampAlpha, options.ConditionChannels);
    }

    public override string Model => ModelName;
    public new CFlowOptions Options => (CFlowOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("cflow", _network)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    /// <summary>train_meta_epoch: one step per fibre batch of each layer, the layers in order.</summary>
    public override void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step) =>
        _network.FibreBatches(Layers(frozen), null, Options.FiberBatch, generator, (logLikelihoods, _) => step(CFlowDecoder.Loss(logLikelihoods).mean()));

    /// <summary>test_meta_epoch's loss: the mean of −log σ(log p / C) over every position of every layer.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => _network.MeanLoss(Layers(frozen));

    /// <summary>The normalising constants from the trained network on the training images (<see cref="ConditionalFlows.Normalise"/>).</summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training) =>
        _network.Normalise(training.Select(b => Layers(b.Frozen)), Preprocessing.OutputHeight, Preprocessing.OutputWidth, Options.BatchSize);

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) =>
        _network.AnomalyMaps(Layers(frozen), Preprocessing.OutputHeight, Preprocessing.OutputWidth);

    private Tensor[] Layers(IReadOnlyList<Tensor> frozen) => [.. _layerIndices.Select(i => frozen[i])];

    /// <summary>Rebuilds a saved CFlow on <paramref name="extractor"/>.</summary>
    public static CFlowDetector Restore(ModelArchiveReader archive, CFlowOptions options, IFeatureExtractor extractor) =>
        Restored(new CFlowDetector(extractor, options, seed: 0), archive);
}
