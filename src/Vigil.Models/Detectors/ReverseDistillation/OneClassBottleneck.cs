using TorchSharp.Modules;
using Vigil.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>
/// The one-class bottleneck embedding (OCBE) of Reverse Distillation, as the official <c>BN_layer</c> (resnet.py):
/// multi-scale feature fusion brings the encoder's layer1 (two stride-2 3×3 convolutions, conv1/bn1/conv2/bn2) and
/// layer2 (one, conv3/bn3) to layer3's grid and concatenates them with layer3 (3 × 256·e channels, e the block
/// expansion); one residual stage (<c>bn_layer</c>) of <c>AttnBasicBlock</c>s (resnet18/34) or <c>AttnBottleneck</c>s
/// (resnet50, wide_resnet50_2) at stride 2 and 512·e channels makes the compact embedding the decoder starts from.
/// Those blocks are torchvision's BasicBlock and Bottleneck (their attention is commented out in the official code),
/// so they are <see cref="ResNet.BasicBlock"/> and <see cref="ResNet.Bottleneck"/> here. The official class also
/// defines conv4 (1×1, 1024·e → 512·e) and bn4, which its forward never calls; they are built too, so that the
/// parameters and an official <c>ckp['bn']</c> state_dict match, and, as in the official training, get no gradient.
/// </summary>
public sealed class OneClassBottleneck : Module<Tensor, Tensor, Tensor, Tensor>
{
    // Official names, declared in the official registration order (bn_layer first): RegisterComponents registers
    // each field under its name, in declaration order, and initialisation visits modules in that order.
    private readonly Sequential bn_layer;
    private readonly Conv2d conv1;
    private readonly KeptScalarBatchNorm bn1;
    private readonly Conv2d conv2;
    private readonly KeptScalarBatchNorm bn2;
    private readonly Conv2d conv3;
    private readonly KeptScalarBatchNorm bn3;
    private readonly Conv2d conv4;
    private readonly KeptScalarBatchNorm bn4;

    /// <param name="encoder">One of the official encoders: resnet.py builds <c>BN_layer(AttnBasicBlock, 2)</c> for
    /// resnet18, <c>(AttnBasicBlock, 3)</c> for resnet34 and <c>(AttnBottleneck, 3)</c> for resnet50 and
    /// wide_resnet50_2 (the latter with width_per_group 128): as many blocks as the encoder's layer4.</param>
    public OneClassBottleneck(ResNetArchitecture encoder) : base("BN_layer")
    {
        int e = encoder.Expansion;
        // _make_layer(block, 512, layers, stride=2) with inplanes = 256·e: the first block reads the 3 · 256·e fused
        // channels and gets a 1×1 stride-2 projection shortcut.
        int fused = 3 * 256 * e, outChannels = 512 * e;
        var blocks = new List<Module<Tensor, Tensor>>();
        for (int b = 0; b < encoder.BlocksPerStage[3]; b++)
        {
            int inChannels = b == 0 ? fused : outChannels, stride = b == 0 ? 2 : 1;
            var downsample = b == 0 ? Sequential(Conv2d(fused, outChannels, 1, stride: 2, bias: false), KeptScalarBatchNorm.BatchNorm2d(outChannels)) : null;
            blocks.Add(encoder.Block == ResNetBlock.Basic
                ? new ResNet.BasicBlock(inChannels, 512, stride, downsample)
                : new ResNet.Bottleneck(inChannels, 512, stride, downsample, encoder.WidthPerGroup));
        }
        bn_layer = Sequential(blocks.ToArray());
        conv1 = Conv3x3(64 * e, 128 * e);
        bn1 = KeptScalarBatchNorm.BatchNorm2d(128 * e);
        conv2 = Conv3x3(128 * e, 256 * e);
        bn2 = KeptScalarBatchNorm.BatchNorm2d(256 * e);
        conv3 = Conv3x3(128 * e, 256 * e);
        bn3 = KeptScalarBatchNorm.BatchNorm2d(256 * e);
        conv4 = Conv2d(1024 * e, 512 * e, 1, bias: false);
        bn4 = KeptScalarBatchNorm.BatchNorm2d(512 * e);
        RegisterComponents();
    }

    /// <summary>The embedding [N, 512·e, h3/2, w3/2] of the encoder's layer1, layer2 and layer3 features.</summary>
    public override Tensor forward(Tensor layer1, Tensor layer2, Tensor layer3)
    {
        var l1 = functional.relu(bn2.call(conv2.call(functional.relu(bn1.call(conv1.call(layer1))))));
        var l2 = functional.relu(bn3.call(conv3.call(layer2)));
        return bn_layer.call(cat([l1, l2, layer3], 1)).contiguous();
    }

    /// <summary>resnet.py's conv3x3(in, out, 2): 3×3, stride 2, padding 1, no bias.</summary>
    private static Conv2d Conv3x3(int inChannels, int outChannels) =>
        Conv2d(inChannels, outChannels, 3, stride: 2, padding: 1, bias: false);
}
