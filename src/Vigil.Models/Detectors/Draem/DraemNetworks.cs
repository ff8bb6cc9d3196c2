using Vigil.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Detectors.Draem;

/// <summary>
/// DRAEM's reconstructive sub-network (model_unet.py's <c>ReconstructiveSubNetwork</c>): an encoder of five blocks of
/// two 3×3 convolutions with batch norm and ReLU (widths w, 2w, 4w, 8w, 8w, max-pooled by 2 between them) and a
/// decoder without skip connections that upsamples four times (bilinear, align_corners) back to an RGB image. Module
/// and parameter names are the official ones (encoder.block1.0.weight, decoder.fin_out.0.bias, ...).
/// </summary>
public sealed class DraemReconstructive(int width, int inChannels = 3, int outChannels = 3)
    : DraemSubNetwork("ReconstructiveSubNetwork", "", inChannels, outChannels, width, encoderBlocks: 5,
        // up1/db1 … up4/db4: (up input, up output, block input, block middle, block output).
        [("1", 8, 8, 8, 8, 4), ("2", 4, 4, 4, 4, 2), ("3", 2, 2, 2, 2, 1), ("4", 1, 1, 1, 1, 1)])
{
    public override Tensor forward(Tensor input)
    {
        var x = Encoder.forward(input)[^1];
        for (int i = 0; i < Ups.Length; i++) x = Blocks[i].forward(Ups[i].forward(x));
        return Out.forward(x);
    }
}

/// <summary>
/// DRAEM's discriminative sub-network (model_unet.py's <c>DiscriminativeSubNetwork</c>): a U-Net whose encoder has six
/// blocks (widths w, 2w, 4w, 8w, 8w, 8w) and whose decoder concatenates each upsampled map with the encoder block of
/// the same size; the output is two-channel logits (normal, anomalous) at the input's size.
/// </summary>
public sealed class DraemDiscriminative(int width, int inChannels = 6, int outChannels = 2)
    : DraemSubNetwork("DiscriminativeSubNetwork", "_segment", inChannels, outChannels, width, encoderBlocks: 6,
        // up_b/db_b joins b5 (8w skip channels), up1/db1 b4, … up4/db4 b1: the block reads the upsampled map and the skip.
        [("_b", 8, 8, 16, 8, 8), ("1", 8, 4, 12, 4, 4), ("2", 4, 2, 6, 2, 2), ("3", 2, 1, 3, 1, 1), ("4", 1, 1, 2, 1, 1)])
{
    public override Tensor forward(Tensor input)
    {
        var skips = Encoder.forward(input);
        var x = skips[^1];
        for (int i = 0; i < Ups.Length; i++) x = Blocks[i].forward(cat([Ups[i].forward(x), skips[^(i + 2)]], 1));
        return Out.forward(x);
    }
}

/// <summary>
/// What both sub-networks share: an encoder, a decoder of (up, block) stages and a final convolution, registered as
/// <c>encoder{suffix}</c> and <c>decoder{suffix}</c>. Stage channels are given in multiples of the width w.
/// </summary>
public abstract class DraemSubNetwork : nn.Module<Tensor, Tensor>
{
    private protected readonly DraemEncoder Encoder;
    private protected readonly Sequential[] Ups, Blocks;
    private protected readonly Sequential Out;

    private protected DraemSubNetwork(string name, string suffix, int inChannels, int outChannels, int width, int encoderBlocks,
        (string Name, int UpIn, int UpOut, int BlockIn, int Middle, int BlockOut)[] stages) : base(name)
    {
        Encoder = new DraemEncoder(inChannels, width, encoderBlocks);
        var decoder = new DraemDecoder();
        Ups = new Sequential[stages.Length];
        Blocks = new Sequential[stages.Length];
        for (int i = 0; i < stages.Length; i++)
        {
            var s = stages[i];
            Ups[i] = decoder.Add($"up{s.Name}", DraemLayers.Up(s.UpIn * width, s.UpOut * width));
            Blocks[i] = decoder.Add($"db{s.Name}", DraemLayers.Block(s.BlockIn * width, s.Middle * width, s.BlockOut * width));
        }
        Out = decoder.Add("fin_out", nn.Sequential(DraemLayers.Conv(width, outChannels)));
        register_module($"encoder{suffix}", Encoder);
        register_module($"decoder{suffix}", decoder);
    }
}

/// <summary>The encoders of both sub-networks: blocks of widths w, 2w, 4w, 8w, 8w, 8w (as many as asked), max-pooled by 2 between them.</summary>
internal sealed class DraemEncoder : nn.Module<Tensor, Tensor[]>
{
    private readonly Sequential[] _blocks;

    public DraemEncoder(int inChannels, int width, int blocks) : base("Encoder")
    {
        int[] widths = [width, 2 * width, 4 * width, 8 * width, 8 * width, 8 * width];
        _blocks = new Sequential[blocks];
        for (int i = 0; i < blocks; i++)
            register_module($"block{i + 1}", _blocks[i] = DraemLayers.Block(i == 0 ? inChannels : widths[i - 1], widths[i], widths[i]));
    }

    /// <summary>Every block's output, the first at the input's size.</summary>
    public override Tensor[] forward(Tensor input)
    {
        var outputs = new Tensor[_blocks.Length];
        var x = input;
        for (int i = 0; i < _blocks.Length; i++)
        {
            outputs[i] = x = _blocks[i].forward(i == 0 ? x : nn.functional.max_pool2d(x, 2));
        }
        return outputs;
    }
}

/// <summary>A decoder's modules, registered under the official names (up1, db1, …, fin_out); the sub-network runs them.</summary>
internal sealed class DraemDecoder() : nn.Module("Decoder")
{
    public T Add<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }
}

/// <summary>model_unet.py's building blocks and train_DRAEM.py's weights_init.</summary>
internal static class DraemLayers
{
    public static Conv2d Conv(int input, int output) => nn.Conv2d(input, output, kernel_size: 3, padding: 1);

    /// <summary>Conv 3×3 → BatchNorm → ReLU → Conv 3×3 → BatchNorm → ReLU (indices 0 … 5 as nn.Sequential names them).</summary>
    public static Sequential Block(int input, int middle, int output) => nn.Sequential(
        Conv(input, middle), KeptScalarBatchNorm.BatchNorm2d(middle), nn.ReLU(), Conv(middle, output), KeptScalarBatchNorm.BatchNorm2d(output), nn.ReLU());

    /// <summary>Upsample ×2 (bilinear, align_corners) → Conv 3×3 → BatchNorm → ReLU.</summary>
    public static Sequential Up(int input, int output) => nn.Sequential(
        nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Bilinear, align_corners: true), Conv(input, output), KeptScalarBatchNorm.BatchNorm2d(output), nn.ReLU());

    /// <summary>
    /// weights_init: convolution weights N(0, 0.02²), their biases PyTorch's default (uniform ±1/√fan_in, which
    /// weights_init leaves); batch-norm weights N(1, 0.02²), biases 0. Draws from <paramref name="generator"/> only.
    /// </summary>
    public static void Initialise(nn.Module module, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    conv.weight!.normal_(0, 0.02, generator);
                    double bound = 1 / Math.Sqrt(conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]);
                    conv.bias?.uniform_(-bound, bound, generator);
                    break;
                case KeptScalarBatchNorm norm:
                    norm.weight!.normal_(1, 0.02, generator);
                    norm.bias!.zero_();
                    break;
            }
        }
    }
}
