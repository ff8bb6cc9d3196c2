using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>
/// The student decoder of Reverse Distillation, as the official <c>de_resnet18/34/50</c> and
/// <c>de_wide_resnet50_2</c> (de_resnet.py): the encoder's layers 1–3 mirrored, from the bottleneck's 512·e channels
/// through its layer1 (256·e), layer2 (128·e) and layer3 (64·e), each doubling the grid, with as many blocks as the
/// encoder's layer1, layer2 and layer3 respectively. Each stage's first block upsamples with a 2×2 stride-2
/// transposed convolution (conv1 of a basic block, conv2 of a bottleneck) and its shortcut with a 2×2 stride-2
/// transposed convolution + BatchNorm (<c>upsample</c>). Module and parameter names are the official ones
/// (layer1.0.conv1, layer1.0.upsample.0, …), so an official <c>ckp['decoder']</c> state_dict loads strictly.
/// </summary>
public sealed class ReverseDecoder : Module<Tensor, IReadOnlyList<Tensor>>
{
    private readonly Sequential layer1, layer2, layer3;

    /// <param name="encoder">One of the official encoders (resnet18/34/50, wide_resnet50_2: de_resnet18/34/50, de_wide_resnet50_2).</param>
    public ReverseDecoder(ResNetArchitecture encoder) : base("de_resnet")
    {
        int expansion = encoder.Expansion, inChannels = 512 * expansion;
        Sequential Stage(int planes, int blocks)
        {
            var built = new List<Module<Tensor, Tensor>>();
            for (int b = 0; b < blocks; b++)
            {
                // _make_layer(block, planes, blocks, stride=2): the first block changes resolution, so it always gets
                // the upsampling shortcut.
                int outChannels = planes * expansion, stride = b == 0 ? 2 : 1;
                var upsample = b == 0 ? Sequential(Deconv2x2(inChannels, outChannels), BatchNorm2d(outChannels)) : null;
                built.Add(encoder.Block == ResNetBlock.Basic
                    ? new BasicBlock(inChannels, planes, stride, upsample)
                    : new Bottleneck(inChannels, planes, stride, upsample, encoder.WidthPerGroup));
                inChannels = outChannels;
            }
            return Sequential(built.ToArray());
        }
        // de_resnet.py ResNet: layer1 = _make_layer(block, 256, layers[0], stride=2), layer2 (128, layers[1]), layer3 (64, layers[2]).
        layer1 = Stage(256, encoder.BlocksPerStage[0]);
        layer2 = Stage(128, encoder.BlocksPerStage[1]);
        layer3 = Stage(64, encoder.BlocksPerStage[2]);
        RegisterComponents();
    }

    /// <summary>
    /// The reconstructions of the encoder's [layer1, layer2, layer3] from the bottleneck's embedding, in that order
    /// (the official <c>[feature_c, feature_b, feature_a]</c>: the decoder's layer3, layer2, layer1 outputs).
    /// </summary>
    public override IReadOnlyList<Tensor> forward(Tensor embedding)
    {
        var a = layer1.call(embedding);
        var b = layer2.call(a);
        var c = layer3.call(b);
        return [c, b, a];
    }

    /// <summary>de_resnet.py's deconv2x2 at stride 2: kernel 2, no padding, no bias (doubles the grid exactly).</summary>
    private static ConvTranspose2d Deconv2x2(int inChannels, int outChannels) =>
        ConvTranspose2d(inChannels, outChannels, 2, stride: 2, bias: false);

    private static Conv2d Conv3x3(int inChannels, int outChannels) => Conv2d(inChannels, outChannels, 3, padding: 1, bias: false);

    private static Conv2d Conv1x1(int inChannels, int outChannels) => Conv2d(inChannels, outChannels, 1, bias: false);

    /// <summary>de_resnet.py's BasicBlock: conv1 is the 2×2 transposed convolution at stride 2, else a 3×3 convolution.</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        // Declared in the official registration order (state_dict order).
        private readonly Module<Tensor, Tensor> conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? upsample;

        public BasicBlock(int inChannels, int planes, int stride, Sequential? upsample) : base(nameof(BasicBlock))
        {
            conv1 = stride == 2 ? Deconv2x2(inChannels, planes) : Conv3x3(inChannels, planes);
            bn1 = BatchNorm2d(planes);
            conv2 = Conv3x3(planes, planes);
            bn2 = BatchNorm2d(planes);
            this.upsample = upsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = functional.relu(bn1.call(conv1.call(x)));
            y = bn2.call(conv2.call(y));
            return functional.relu(y.add_(upsample?.call(x) ?? x));
        }
    }

    /// <summary>de_resnet.py's Bottleneck: conv2 is the 2×2 transposed convolution at stride 2, else a 3×3 convolution.</summary>
    private sealed class Bottleneck : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Module<Tensor, Tensor> conv2;
        private readonly BatchNorm2d bn2;
        private readonly Conv2d conv3;
        private readonly BatchNorm2d bn3;
        private readonly Sequential? upsample;

        public Bottleneck(int inChannels, int planes, int stride, Sequential? upsample, int widthPerGroup) : base(nameof(Bottleneck))
        {
            int width = planes * widthPerGroup / 64;
            conv1 = Conv1x1(inChannels, width);
            bn1 = BatchNorm2d(width);
            conv2 = stride == 2 ? Deconv2x2(width, width) : Conv3x3(width, width);
            bn2 = BatchNorm2d(width);
            conv3 = Conv1x1(width, planes * 4);
            bn3 = BatchNorm2d(planes * 4);
            this.upsample = upsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = functional.relu(bn1.call(conv1.call(x)));
            y = functional.relu(bn2.call(conv2.call(y)));
            y = bn3.call(conv3.call(y));
            return functional.relu(y.add_(upsample?.call(x) ?? x));
        }
    }
}
