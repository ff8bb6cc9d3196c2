using TorchSharp.Modules;
using Vigil.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>
/// The trained part of Reverse Distillation: the one-class bottleneck (<c>bn</c>, <see cref="OneClassBottleneck"/>)
/// and the decoder (<c>decoder</c>, <see cref="ReverseDecoder"/>), named as the official checkpoint's entries
/// <c>{'bn': bn.state_dict(), 'decoder': decoder.state_dict()}</c>. The forward pass is main.py's
/// <c>decoder(bn(inputs))</c>: the frozen encoder's layer1–3 features in, their three reconstructions out, in the same
/// order and shapes.
/// </summary>
public sealed class ReverseDistillationNetwork : Module<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>>
{
    private readonly OneClassBottleneck bn;
    private readonly ReverseDecoder decoder;

    /// <param name="encoder">One of the official encoders (resnet18/34/50, wide_resnet50_2), whose layers 1–3 the networks mirror.</param>
    /// <param name="seed">Seeds the initialisation (<see cref="Initialise"/>).</param>
    public ReverseDistillationNetwork(ResNetArchitecture encoder, long seed) : base("ReverseDistillation")
    {
        bn = new OneClassBottleneck(encoder);
        decoder = new ReverseDecoder(encoder);
        RegisterComponents();
        Initialise(seed);
    }

    public OneClassBottleneck Bottleneck => bn;

    public ReverseDecoder Decoder => decoder;

    public override IReadOnlyList<Tensor> forward(IReadOnlyList<Tensor> encoder) => decoder.call(bn.call(encoder[0], encoder[1], encoder[2]));

    /// <summary>
    /// The official initialisation, drawn from <paramref name="seed"/> alone, bottleneck first, each module in its
    /// registration order: every Conv2d Kaiming-normal fan-out and every BatchNorm γ = 1, β = 0 (the <c>__init__</c>
    /// loops of BN_layer and de_resnet's ResNet, as torchvision's). The decoder's ConvTranspose2d keep PyTorch's
    /// default, because those loops test <c>isinstance(m, nn.Conv2d)</c>, which a ConvTranspose2d is not:
    /// kaiming_uniform(a = √5), i.e. uniform ±1/√fan_in with fan_in = weight.size(1)·k² (its output channels × 4).
    /// </summary>
    private void Initialise(long seed)
    {
        using var noGrad = no_grad();
        // An own generator: TorchSharp's default initialisation would draw from the shared global one.
        using var generator = new Generator((ulong)seed);
        foreach (var (_, m) in named_modules())
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
}
