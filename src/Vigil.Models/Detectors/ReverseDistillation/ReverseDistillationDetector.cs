using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using static TorchSharp.torch;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>
/// Reverse Distillation from a one-class embedding (Deng &amp; Li, CVPR 2022), as the official code (hq-deng/RD4AD)
/// computes it: the frozen pretrained encoder's layer1–3 features are fused and compressed by the trainable one-class
/// bottleneck, and the trainable decoder reconstructs each of the three layers from that embedding
/// (<see cref="ReverseDistillationNetwork"/>). Loss: <see cref="ReverseDistillationLoss"/> (main.py's loss_fucntion).
/// Map: <see cref="ReverseDistillationMap"/> (test.py's cal_anomaly_map) at the network input, Gaussian σ = 4; the
/// image score is the smoothed map's maximum, as test.py's evaluation.
/// </summary>
public sealed class ReverseDistillationDetector : TrainedDetector
{
    public const string ModelName = "rd4ad";

    /// <summary>The encoder layers the bottleneck fuses and the decoder reconstructs (resnet.py returns layer1–3).</summary>
    public static readonly IReadOnlyList<string> EncoderLayers = ["layer1", "layer2", "layer3"];

    private readonly ReverseDistillationNetwork _network;
    private readonly int[] _layerIndices;

    public ReverseDistillationDetector(IFeatureExtractor encoder, ReverseDistillationOptions options, long seed) : base(encoder, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(encoder, EncoderLayers, ModelName);
        _network = new ReverseDistillationNetwork(EncoderArchitecture(encoder, _layerIndices), seed);
    }

    public override string Model => ModelName;
    public new ReverseDistillationOptions Options => (ReverseDistillationOptions)base.Options;

    /// <summary>Named as the official checkpoint's entries: <c>{'bn': bn.state_dict(), 'decoder': decoder.state_dict()}</c>.</summary>
    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("bn", _network.Bottleneck), ("decoder", _network.Decoder)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var encoder = EncoderFeatures(frozen);
        return ReverseDistillationLoss.Compute(encoder, Reconstruct(encoder));
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var encoder = EncoderFeatures(frozen);
        return ReverseDistillationMap.Compute(encoder, Reconstruct(encoder), Preprocessing.OutputHeight, Preprocessing.OutputWidth);
    }

    /// <summary>The decoder's reconstructions of the encoder's layer1–3 features, in the same order.</summary>
    public IReadOnlyList<Tensor> Reconstruct(IReadOnlyList<Tensor> encoder) => _network.call(encoder);

    private IReadOnlyList<Tensor> EncoderFeatures(IReadOnlyList<Tensor> frozen) => _layerIndices.Select(i => frozen[i]).ToArray();

    /// <summary>
    /// The official encoder whose networks fit: a torchvision ResNet's own (resnet18/34/50, wide_resnet50_2); resnet18's
    /// for any other backbone (the ImageNet ResNet18s, whose layers 1–3 are torchvision's resnet18 layout; the third
    /// layer4 block of resnet18_imagenet is never read), whose layer1–3 must then give 64/128/256 channels at strides
    /// doubling from one layer to the next. The input must be a multiple of twice layer3's stride: the bottleneck halves
    /// layer3's grid and the decoder doubles it three times to land exactly on the encoder's grids.
    /// </summary>
    private static ResNetArchitecture EncoderArchitecture(IFeatureExtractor encoder, int[] layerIndices)
    {
        var architecture = TorchBackbones.Contains(encoder.Name) ? TorchBackbones.Architecture(encoder.Name) : ResNetArchitecture.ResNet18;
        for (int l = 0; l < layerIndices.Length; l++)
        {
            var (channels, stride) = encoder.LayerShapes[layerIndices[l]];
            int expected = architecture.StageChannels(l + 1), expectedStride = encoder.LayerShapes[layerIndices[0]].Stride << l;
            if (channels != expected || stride != expectedStride)
                throw new VigilInputException($"Reverse Distillation mirrors a {architecture.Name} encoder: {EncoderLayers[l]} must give {expected} channels at " +
                    $"stride {expectedStride}, but backbone '{encoder.Name}' gives {channels} at stride {stride}; use a ResNet backbone (resnet18_imagenet by default).");
        }
        int multiple = 2 * encoder.LayerShapes[layerIndices[2]].Stride;
        var input = encoder.Preprocessing;
        if (input.OutputHeight % multiple != 0 || input.OutputWidth % multiple != 0)
            throw new VigilInputException($"Reverse Distillation needs a network input that is a multiple of {multiple} pixels (its decoder doubles the " +
                $"bottleneck's grid back to layer3, layer2 and layer1); got {input.OutputHeight}×{input.OutputWidth}: choose such a resize/crop (256 in the paper).");
        return architecture;
    }

    /// <summary>Rebuilds a saved Reverse Distillation detector on <paramref name="encoder"/>.</summary>
    public static ReverseDistillationDetector Restore(ModelArchiveReader archive, ReverseDistillationOptions options, IFeatureExtractor encoder) =>
        Restored(new ReverseDistillationDetector(encoder, options, seed: 0), archive);
}
