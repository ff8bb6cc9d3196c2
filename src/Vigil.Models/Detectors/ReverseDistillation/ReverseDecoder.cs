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
                int outChannels = planes * expansion;
                bool first = b == 0;
                var upsample = first ? Sequential(Deconv2x2(inChannels, outChannels), KeptScalarBatchNorm.BatchNorm2d(outChannels)) : null;
                // de_resnet.py's blocks are torchvision's with the stride-2 convolution (BasicBlock conv1, Bottleneck conv2)
                // a 2×2 transposed one.
                built.Add(encoder.Block == ResNetBlock.Basic
                    ? new ResNet.BasicBlock(first ? Deconv2x2(inChannels, planes) : Conv3x3(inChannels, planes), planes, downsample: null, upsample)
                    : new ResNet.Bottleneck(inChannels, planes, encoder.WidthPerGroup, width => first ? Deconv2x2(width, width) : Conv3x3(width, width),
                        downsample: null, upsample));
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
}
