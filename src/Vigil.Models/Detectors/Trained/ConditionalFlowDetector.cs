using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Components.Flows;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.Trained;

/// <summary>
/// The shell of the detectors built on CFlow-AD's conditional flows (CFlow, BGAD): one <see cref="ConditionalFlows"/>
/// decoder per frozen layer; training without labels is one optimizer step per fibre batch on the mean of
/// −log σ(log p / C) (CFlow's train_meta_epoch); the validation loss is that mean over every position; the map
/// normalisation is fixed when training ends, over the training images; the map is CFlow's.
/// </summary>
public abstract class ConditionalFlowDetector : TrainedDetector
{
    private readonly int[] _layerIndices;

    protected ConditionalFlowDetector(IFeatureExtractor extractor, ConditionalFlowOptions options, long seed, string model) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, model);
        Flows = new ConditionalFlows(_layerIndices.Select(i => extractor.LayerShapes[i].Channels).ToList(), seed, options.CouplingBlocks, options.ClampAlpha, options.ConditionChannels);
    }

    protected ConditionalFlows Flows { get; }

    private ConditionalFlowOptions FlowOptions => (ConditionalFlowOptions)Options;

    public override bool NeedsImages => false;

    protected override double MapSigma => FlowOptions.MapSigma;

    /// <summary>train_meta_epoch: one step per fibre batch of each layer, the layers in order.</summary>
    public override void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step) =>
        Flows.FibreBatches(Layers(frozen), null, FlowOptions.FiberBatch, generator, (logLikelihoods, _) => step(CFlowDecoder.Loss(logLikelihoods).mean()));

    /// <summary>The official test loss: the mean of −log σ(log p / C) over every position of every layer.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Flows.MeanLoss(Layers(frozen));

    /// <summary>The normalising constants from the trained network on the normal training images (<see cref="ConditionalFlows.Normalise"/>).</summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training) =>
        Flows.Normalise(training.Select(b => Layers(b.Frozen)), Preprocessing.OutputHeight, Preprocessing.OutputWidth, FlowOptions.BatchSize);

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) =>
        Flows.AnomalyMaps(Layers(frozen), Preprocessing.OutputHeight, Preprocessing.OutputWidth);

    /// <summary>The flows' layers among the frozen features.</summary>
    protected Tensor[] Layers(IReadOnlyList<Tensor> frozen) => [.. _layerIndices.Select(i => frozen[i])];
}
