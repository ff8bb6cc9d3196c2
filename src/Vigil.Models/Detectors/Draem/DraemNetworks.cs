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
public sealed class DraemReconstructive : nn.Module<Tensor, Tensor>
{
    private readonly DraemEncoder _encoder;
    private readonly Sequential[] _ups, _blocks;
    private readonly Sequential _out;

    public DraemReconstructive(int width, int inChannels = 3, int outChannels = 3) : base("ReconstructiveSubNetwork")
    {
        _encoder = new DraemEncoder(inChannels, width, blocks: 5);
        var decoder = new DraemDecoder();
        int w = width;
        // (up input, up output, block middle, block output) of up1/db1 … up4/db4.
        (int, int, int, int)[] stages = [(8 * w, 8 * w, 8 * w, 4 * w), (4 * w, 4 * w, 4 * w, 2 * w), (2 * w, 2 * w, 2 * w, w), (w, w, w, w)];
        _ups = new Sequential[stages.Length];
        _blocks = new Sequential[stages.Length];
        for (int i = 0; i < stages.Length; i++)
        {
            var (upIn, upOut, middle, output) = stages[i];
            _ups[i] = decoder.Add($"up{i + 1}", DraemLayers.Up(upIn, upOut));
            _blocks[i] = decoder.Add($"db{i + 1}", DraemLayers.Block(upOut, middle, output));
        }
        _out = decoder.Add("fin_out", nn.Sequential(DraemLayers.Conv(w, outChannels)));
        register_module("encoder", _encoder);
        register_module("decoder", decoder);
    }

    public override Tensor forward(Tensor input)
    {
        var x = _encoder.forward(input)[^1];
        for (int i = 0; i < _ups.Length; i++) x = _blocks[i].forward(_ups[i].forward(x));
        return _out.forward(x);
    }
}

/// <summary>
/// DRAEM's discriminative sub-network (model_unet.py's <c>DiscriminativeSubNetwork</c>): a U-Net whose encoder has six
/// blocks (widths w, 2w, 4w, 8w, 8w, 8w) and whose decoder concatenates each upsampled map with the encoder block of
/// the same size; the output is two-channel logits (normal, anomalous) at the input's size.
/// </summary>
public sealed class DraemDiscriminative : nn.Module<Tensor, Tensor>
{
    private readonly DraemEncoder _encoder;
    private readonly Sequential[] _ups, _blocks;
    private readonly Sequential _out;

    public DraemDiscriminative(int width, int inChannels = 6, int outChannels = 2) : base("DiscriminativeSubNetwork")
    {
        _encoder = new DraemEncoder(inChannels, width, blocks: 6);
        var decoder = new DraemDecoder();
        int w = width;
        // (name suffix, up input, up output, skip channels): up_b/db_b joins b5, up1/db1 b4, … up4/db4 b1.
        (string, int, int, int)[] stages = [("_b", 8 * w, 8 * w, 8 * w), ("1", 8 * w, 4 * w, 8 * w), ("2", 4 * w, 2 * w, 4 * w), ("3", 2 * w, w, 2 * w), ("4", w, w, w)];
        _ups = new Sequential[stages.Length];
        _blocks = new Sequential[stages.Length];
        for (int i = 0; i < stages.Length; i++)
        {
            var (name, upIn, upOut, skip) = stages[i];
            _ups[i] = decoder.Add($"up{name}", DraemLayers.Up(upIn, upOut));
            _blocks[i] = decoder.Add($"db{name}", DraemLayers.Block(upOut + skip, upOut, upOut));
        }
        _out = decoder.Add("fin_out", nn.Sequential(DraemLayers.Conv(w, outChannels)));
        register_module("encoder_segment", _encoder);
        register_module("decoder_segment", decoder);
    }

    public override Tensor forward(Tensor input)
    {
        var skips = _encoder.forward(input);
        var x = skips[^1];
        for (int i = 0; i < _ups.Length; i++) x = _blocks[i].forward(cat([_ups[i].forward(x), skips[^(i + 2)]], 1));
        return _out.forward(x);
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
        Conv(input, middle), nn.BatchNorm2d(middle), nn.ReLU(), Conv(middle, output), nn.BatchNorm2d(output), nn.ReLU());

    /// <summary>Upsample ×2 (bilinear, align_corners) → Conv 3×3 → BatchNorm → ReLU.</summary>
    public static Sequential Up(int input, int output) => nn.Sequential(
        nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Bilinear, align_corners: true), Conv(input, output), nn.BatchNorm2d(output), nn.ReLU());

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
                case BatchNorm2d norm:
                    norm.weight!.normal_(1, 0.02, generator);
                    norm.bias!.zero_();
                    break;
            }
        }
    }
}
