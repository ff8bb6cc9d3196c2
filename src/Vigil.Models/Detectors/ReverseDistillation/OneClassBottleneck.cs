using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>
/// The one-class bottleneck embedding (OCBE) of Reverse Distillation, as the official <c>BN_layer</c> (resnet.py):
/// multi-scale feature fusion brings the encoder's layer1 (two stride-2 3×3 convolutions) and layer2 (one) to layer3's
/// grid, concatenates them with layer3 (3 × 256·e channels, e the block expansion), and one residual stage of the
/// encoder's block kind (stride 2, 512·e channels, as many blocks as the encoder's layer4) makes the compact embedding
/// the decoder starts from. Module and parameter names are the official ones (conv1, bn1, …, bn_layer.0.downsample.0),
/// so an official <c>ckp['bn']</c> state_dict maps, less its conv4/bn4 (defined there, never used in the forward pass,
/// and not built here).
/// </summary>
public sealed class OneClassBottleneck : Module<Tensor, Tensor, Tensor, Tensor>
{
    // Field names are the official names: RegisterComponents registers each module under its field name.
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Sequential bn_layer;

    /// <param name="encoder">The encoder's layout: block kind (expansion e), width per group, and layer4's block count
    /// (the official resnet18 builds <c>BN_layer(AttnBasicBlock, 2)</c>, resnet34/50 and wide_resnet50_2 3 blocks).</param>
    public OneClassBottleneck(ResNetArchitecture encoder) : base("BN_layer")
    {
        int e = encoder.Expansion;
        conv1 = Conv3x3(64 * e, 128 * e, stride: 2);
        bn1 = BatchNorm2d(128 * e);
        conv2 = Conv3x3(128 * e, 256 * e, stride: 2);
        bn2 = BatchNorm2d(256 * e);
        conv3 = Conv3x3(128 * e, 256 * e, stride: 2);
        bn3 = BatchNorm2d(256 * e);

        // _make_layer(block, 512, layers, stride=2) with inplanes = 256·e and its first block reading the 3 · 256·e fused channels.
        int fused = 3 * 256 * e, outChannels = 512 * e;
        var blocks = new List<Module<Tensor, Tensor>>();
        for (int b = 0; b < encoder.BlocksPerStage[3]; b++)
        {
            int inChannels = b == 0 ? fused : outChannels, stride = b == 0 ? 2 : 1;
            var downsample = b == 0 ? Sequential(Conv2d(fused, outChannels, 1, stride: 2, bias: false), BatchNorm2d(outChannels)) : null;
            blocks.Add(encoder.Block == ResNetBlock.Basic
                ? new ResNet.BasicBlock(inChannels, 512, stride, downsample)
                : new ResNet.Bottleneck(inChannels, 512, stride, downsample, encoder.WidthPerGroup));
        }
        bn_layer = Sequential(blocks.ToArray());
        RegisterComponents();
    }

    /// <summary>The embedding [N, 512·e, h3/2, w3/2] of the encoder's layer1, layer2 and layer3 features.</summary>
    public override Tensor forward(Tensor layer1, Tensor layer2, Tensor layer3)
    {
        var l1 = functional.relu(bn2.call(conv2.call(functional.relu(bn1.call(conv1.call(layer1))))));
        var l2 = functional.relu(bn3.call(conv3.call(layer2)));
        return bn_layer.call(cat([l1, l2, layer3], 1)).contiguous();
    }

    private static Conv2d Conv3x3(int inChannels, int outChannels, int stride) =>
        Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
}
