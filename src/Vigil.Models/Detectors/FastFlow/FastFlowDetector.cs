using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Components.Flows;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using static TorchSharp.torch;

namespace Vigil.Detectors.FastFlow;

/// <summary>
/// FastFlow (Yu et al. 2021) as gathierry/FastFlow computes it (no official code exists; IM-IAD's open-iad and
/// anomalib follow that one): each frozen layer's features [C, h, w] pass a trainable LayerNorm over (C, h, w), then a
/// 2D normalizing flow of <c>flow_steps</c> FrEIA AllInOneBlocks (<see cref="FastFlowHead"/>). The loss is, summed
/// over layers, the batch mean of ½ Σ z² − log|det J|; a layer's map is −exp(−½ mean_c z²), upsampled bilinearly to
/// the input; the anomaly map is the mean over layers, the image score its maximum (open-iad, anomalib).
/// </summary>
public sealed class FastFlowDetector : TrainedDetector
{
    public const string ModelName = "fastflow";
    private readonly FastFlowHead _head;
    private readonly int[] _layerIndices;

    public FastFlowDetector(IFeatureExtractor extractor, FastFlowOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        var input = extractor.Preprocessing;
        // The LayerNorms span each layer's whole map, so the flows are built for the input size (fastflow.py:
        // input_size / scale; a stride-s stage maps n pixels to ⌈n / s⌉ cells, the same for 256).
        var shapes = _layerIndices.Select(i => extractor.LayerShapes[i])
            .Select(s => (s.Channels, (input.OutputHeight + s.Stride - 1) / s.Stride, (input.OutputWidth + s.Stride - 1) / s.Stride))
            .ToList();
        _head = new FastFlowHead(shapes, seed, options.FlowSteps, options.Conv3x3Only, options.HiddenRatio, options.Clamp);
    }

    public override string Model => ModelName;
    public new FastFlowOptions Options => (FastFlowOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("fastflow", _head)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => FastFlowHead.Loss(Flows(frozen));

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var input = Preprocessing;
        return FastFlowHead.AnomalyMap(Flows(frozen).Select(f => f.Z), input.OutputHeight, input.OutputWidth).squeeze(1);
    }

    private IReadOnlyList<(Tensor Z, Tensor LogDet)> Flows(IReadOnlyList<Tensor> frozen) => _head.Forward([.. _layerIndices.Select(i => frozen[i])]);

    /// <summary>Rebuilds a saved FastFlow on <paramref name="extractor"/>.</summary>
    public static FastFlowDetector Restore(ModelArchiveReader archive, FastFlowOptions options, IFeatureExtractor extractor) =>
        Restored(new FastFlowDetector(extractor, options, seed: 0), archive);
}
