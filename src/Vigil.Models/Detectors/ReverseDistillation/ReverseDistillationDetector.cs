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
/// bottleneck (<see cref="OneClassBottleneck"/>), and the trainable decoder (<see cref="ReverseDecoder"/>) reconstructs
/// each of the three layers from that embedding. Loss: per layer, the mean over images of 1 − the cosine between the
/// whole flattened encoder and decoder maps, summed over layers. Map: per layer and position, 1 − the cosine along
/// channels, upsampled bilinearly (align_corners=True) to the network input, summed over layers, Gaussian σ = 4;
/// the image score is the smoothed map's maximum.
/// </summary>
public sealed class ReverseDistillationDetector : TrainedDetector
{
    public const string ModelName = "rd4ad";

    /// <summary>The encoder layers the bottleneck fuses and the decoder reconstructs (resnet.py returns layer1–3).</summary>
    public static readonly IReadOnlyList<string> EncoderLayers = ["layer1", "layer2", "layer3"];

    private const double CosineEpsilon = 1e-8; // torch.nn.CosineSimilarity's and F.cosine_similarity's default
    private readonly OneClassBottleneck _bottleneck;
    private readonly ReverseDecoder _decoder;
    private readonly int[] _layerIndices;

    public ReverseDistillationDetector(IFeatureExtractor encoder, ReverseDistillationOptions options, long seed) : base(encoder, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(encoder, EncoderLayers, ModelName);
        var architecture = EncoderArchitecture(encoder, _layerIndices);
        _bottleneck = new OneClassBottleneck(architecture);
        _decoder = new ReverseDecoder(architecture);
        Initialise(seed);
    }

    public override string Model => ModelName;
    public new ReverseDistillationOptions Options => (ReverseDistillationOptions)base.Options;

    /// <summary>Named as the official checkpoint's entries: <c>{'bn': bn.state_dict(), 'decoder': decoder.state_dict()}</c>.</summary>
    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("bn", _bottleneck), ("decoder", _decoder)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var encoder = EncoderFeatures(frozen);
        return CosineLoss(encoder, Reconstruct(encoder));
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var encoder = EncoderFeatures(frozen);
        return AnomalyMap(encoder, Reconstruct(encoder), Preprocessing.OutputHeight, Preprocessing.OutputWidth);
    }

    /// <summary>The decoder's reconstructions of the encoder's layer1–3 features, in the same order.</summary>
    public IReadOnlyList<Tensor> Reconstruct(IReadOnlyList<Tensor> encoder) => _decoder.call(_bottleneck.call(encoder[0], encoder[1], encoder[2]));

    /// <summary>
    /// main.py <c>loss_fucntion</c>: Σ_layers mean_images (1 − cos(a.view(N, −1), b.view(N, −1))): one cosine per image
    /// over the whole flattened map (channels and positions together), not per position.
    /// </summary>
    public static Tensor CosineLoss(IReadOnlyList<Tensor> encoder, IReadOnlyList<Tensor> decoder)
    {
        Tensor? loss = null;
        for (int l = 0; l < encoder.Count; l++)
        {
            var a = encoder[l].reshape(encoder[l].shape[0], -1);
            var b = decoder[l].reshape(decoder[l].shape[0], -1);
            var layer = (1 - nn.functional.cosine_similarity(a, b, dim: 1, eps: CosineEpsilon)).mean();
            loss = loss is null ? layer : loss + layer;
        }
        return loss!;
    }

    /// <summary>
    /// test.py <c>cal_anomaly_map(amap_mode='a')</c> before smoothing, for a batch: per layer 1 − the cosine along
    /// channels at each position, upsampled bilinearly with align_corners=True to <paramref name="height"/> ×
    /// <paramref name="width"/>, summed over layers; [N, height, width].
    /// </summary>
    public static Tensor AnomalyMap(IReadOnlyList<Tensor> encoder, IReadOnlyList<Tensor> decoder, long height, long width)
    {
        Tensor? map = null;
        for (int l = 0; l < encoder.Count; l++)
        {
            var layer = (1 - nn.functional.cosine_similarity(encoder[l], decoder[l], dim: 1, eps: CosineEpsilon)).unsqueeze(1);
            layer = nn.functional.interpolate(layer, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: true);
            map = map is null ? layer : map + layer;
        }
        return map!.squeeze(1);
    }

    private IReadOnlyList<Tensor> EncoderFeatures(IReadOnlyList<Tensor> frozen) => _layerIndices.Select(i => frozen[i]).ToArray();

    /// <summary>
    /// The official initialisation, from <paramref name="seed"/> alone: convolutions Kaiming-normal fan-out and
    /// BatchNorm γ=1 β=0 (both modules' <c>__init__</c> loops), and the decoder's transposed convolutions left at
    /// PyTorch's default, since that loop tests <c>isinstance(m, nn.Conv2d)</c>, which a ConvTranspose2d is not:
    /// kaiming_uniform(a=√5), i.e. uniform ±1/√fan_in with fan_in = weight.size(1)·k² (the output channels).
    /// </summary>
    private void Initialise(long seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var (_, module) in Trained)
            foreach (var (_, m) in module.named_modules())
            {
                if (m is ConvTranspose2d deconv)
                {
                    var w = deconv.weight!;
                    double bound = 1 / Math.Sqrt(w.shape[1] * w.shape[2] * w.shape[3]);
                    w.uniform_(-bound, bound, generator);
                }
                else ResNet.InitialiseLikeTorchvision(m, generator);
            }
    }

    /// <summary>
    /// The encoder's block layout, which the bottleneck and decoder mirror: a torchvision ResNet's own; ResNet18's for
    /// any other backbone (the ImageNet ResNet18s: layers 1–3 are torchvision's), whose layer1–3 must then give 64/128/256
    /// channels at strides doubling from one layer to the next, and whose input must be a multiple of twice layer3's
    /// stride (the decoder doubles the bottleneck's grid three times to land exactly on the encoder's grids).
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
    public static ReverseDistillationDetector Restore(ModelArchiveReader archive, ReverseDistillationOptions options, IFeatureExtractor encoder)
    {
        var detector = new ReverseDistillationDetector(encoder, options, seed: 0);
        try
        {
            detector.Restore(archive);
            return detector;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }
}
