using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Detectors.Igd;

/// <summary>
/// IGD's generator (p256/mvtec_module.py, <c>twoin1Generator256</c>) without its frozen ResNet18, whose pooled layer4
/// features come in as the frozen part: the encoder head <c>ln11</c> (512 → latent) and the decoder, a linear layer to
/// 8w channels on a grid of input / 64, <c>up1</c> (nearest ×2 then 3×3 convolution), four residual up-blocks
/// (8w → 8w → 4w → 2w → w), batch norm, ReLU and <c>up2</c> (nearest ×2, 5×5 convolution to RGB; no activation: the
/// reconstruction is in the normalised input's space). Also holds the Gaussian descriptor: its centre and width.
/// </summary>
public sealed class IgdGenerator : nn.Module<Tensor, Tensor>
{
    private readonly Linear ln11, ln1;
    private readonly IgdUpSampleConv up1, up2;
    private readonly IgdUpBlock rb1, rb2, rb3, rb4;
    private readonly IgdEvalBatchNorm bn;
    private readonly int _width, _gridHeight, _gridWidth;

    /// <summary>The Gaussian descriptor's centre c [1, latent] and width σ [] (set from data before and during training).</summary>
    private readonly Tensor center, sigma;

    public IgdGenerator(int features, int latent, int width, int height, int imageWidth) : base("twoin1Generator256")
    {
        (_width, _gridHeight, _gridWidth) = (width, height / 64, imageWidth / 64);
        ln11 = nn.Linear(features, latent);
        ln1 = nn.Linear(latent, _gridHeight * _gridWidth * 8 * width);
        up1 = new IgdUpSampleConv(8 * width, 8 * width, 3);
        rb1 = new IgdUpBlock(8 * width, 8 * width);
        rb2 = new IgdUpBlock(8 * width, 4 * width);
        rb3 = new IgdUpBlock(4 * width, 2 * width);
        rb4 = new IgdUpBlock(2 * width, width);
        bn = new IgdEvalBatchNorm(width);
        up2 = new IgdUpSampleConv(width, 3, 5);
        center = zeros(1, latent);
        sigma = ones([]);
        RegisterComponents();
    }

    public Tensor Center => center;
    public Tensor Sigma => sigma;

    /// <summary>The latent code [N, latent] of pooled backbone features [N, 512, h, w] (<c>encoder</c>: avgpool then ln11).</summary>
    public Tensor Encode(Tensor layer4) => ln11.call(layer4.mean([2, 3]));

    /// <summary>The reconstruction [N, 3, H, W] of latent codes [N, latent] (<c>generate</c>).</summary>
    public Tensor Decode(Tensor latent)
    {
        var x = ln1.call(latent).view(-1, 8 * _width, _gridHeight, _gridWidth);
        x = rb4.call(rb3.call(rb2.call(rb1.call(up1.call(x)))));
        return up2.call(nn.functional.relu(bn.call(x)));
    }

    public override Tensor forward(Tensor layer4) => Decode(Encode(layer4));

    /// <summary>The Gaussian descriptor's anomaly score 1 − exp(−‖z − c‖² / σ) [N] of latent codes [N, latent].</summary>
    public Tensor GaussianScore(Tensor latent) => 1 - exp(-(latent - center).square().sum(1) / sigma);

    /// <summary>Sets the descriptor's centre and width (no gradient flows into them).</summary>
    public void SetDescriptor(Tensor? newCenter, Tensor? newSigma)
    {
        using var noGrad = no_grad();
        if (newCenter is not null) center.copy_(newCenter);
        if (newSigma is not null) sigma.copy_(newSigma);
    }
}

/// <summary>
/// IGD's critic (<c>VisualDiscriminator256</c>): a 5×5 stride-2 convolution to w channels, four residual down-blocks
/// with layer norm (w → 2w → 4w → 8w → 8w, each halving the grid), a 3×3 stride-2 convolution and a linear layer to
/// one value per image.
/// </summary>
public sealed class IgdCritic : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly IgdDownBlock rb1, rb2, rb3, rb4;
    private readonly Linear ln1;

    public IgdCritic(int width, int height, int imageWidth) : base("VisualDiscriminator256")
    {
        conv1 = nn.Conv2d(3, width, 5, stride: 2, padding: 2);
        rb1 = new IgdDownBlock(width, 2 * width, height / 2, imageWidth / 2);
        rb2 = new IgdDownBlock(2 * width, 4 * width, height / 4, imageWidth / 4);
        rb3 = new IgdDownBlock(4 * width, 8 * width, height / 8, imageWidth / 8);
        rb4 = new IgdDownBlock(8 * width, 8 * width, height / 16, imageWidth / 16);
        conv2 = nn.Conv2d(8 * width, 8 * width, 3, stride: 2, padding: 1);
        ln1 = nn.Linear(8 * width * (height / 64) * (imageWidth / 64), 1);
        RegisterComponents();
    }

    /// <summary>The critic's value [N] of images [N, 3, H, W].</summary>
    public override Tensor forward(Tensor images)
    {
        var x = conv2.call(rb4.call(rb3.call(rb2.call(rb1.call(conv1.call(images))))));
        return ln1.call(x.flatten(1)).view(-1);
    }
}

/// <summary>
/// <c>UpSampleConv</c>: four channel copies through <c>DepthToSpace(2)</c>, i.e. a nearest-neighbour ×2 upsampling,
/// then a convolution with 'same' padding.
/// </summary>
public sealed class IgdUpSampleConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public IgdUpSampleConv(int input, int output, int kernel, bool bias = true) : base("UpSampleConv")
    {
        conv = nn.Conv2d(input, output, kernel, padding: (kernel - 1) / 2, bias: bias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => conv.call(x.repeat_interleave(2, 2).repeat_interleave(2, 3));
}

/// <summary>
/// <c>ResidualBlock(resample='up')</c>: UpSampleConv 1×1 shortcut plus BN → ReLU → UpSampleConv 3×3 (no bias) → BN → ReLU → 3×3 convolution.
/// </summary>
public sealed class IgdUpBlock : nn.Module<Tensor, Tensor>
{
    private readonly IgdEvalBatchNorm bn1, bn2;
    private readonly IgdUpSampleConv conv_shortcut, conv_1;
    private readonly Conv2d conv_2;

    public IgdUpBlock(int input, int output) : base("ResidualBlock")
    {
        bn1 = new IgdEvalBatchNorm(input);
        bn2 = new IgdEvalBatchNorm(output);
        conv_shortcut = new IgdUpSampleConv(input, output, 1);
        conv_1 = new IgdUpSampleConv(input, output, 3, bias: false);
        conv_2 = nn.Conv2d(output, output, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        conv_shortcut.call(x) + conv_2.call(nn.functional.relu(bn2.call(conv_1.call(nn.functional.relu(bn1.call(x))))));
}

/// <summary>
/// <c>ResidualBlock(resample='down')</c> of the critic: MeanPoolConv 1×1 shortcut (2×2 mean, then convolution) plus
/// LayerNorm → ReLU → 3×3 convolution (no bias) → LayerNorm → ReLU → ConvMeanPool 3×3 (convolution, then 2×2 mean);
/// both layer norms over [input channels, h, w].
/// </summary>
public sealed class IgdDownBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm bn1, bn2;
    private readonly Conv2d conv_shortcut, conv_1, conv_2;

    public IgdDownBlock(int input, int output, int height, int width) : base("ResidualBlock")
    {
        bn1 = nn.LayerNorm([input, height, width]);
        bn2 = nn.LayerNorm([input, height, width]);
        conv_shortcut = nn.Conv2d(input, output, 1);
        conv_1 = nn.Conv2d(input, input, 3, padding: 1, bias: false);
        conv_2 = nn.Conv2d(input, output, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        conv_shortcut.call(nn.functional.avg_pool2d(x, 2)) + nn.functional.avg_pool2d(conv_2.call(nn.functional.relu(bn2.call(conv_1.call(nn.functional.relu(bn1.call(x)))))), 2);
}

/// <summary>
/// The decoder's batch norm as the official training runs it: <c>init_c</c> puts the generator in eval mode before the
/// first step and nothing puts it back, so every batch norm normalises with its initial running statistics (mean 0,
/// variance 1, never updated) throughout training and testing, i.e. it is γ · x / √(1 + ε) + β per channel.
/// </summary>
public sealed class IgdEvalBatchNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight, bias;
    private readonly Tensor running_mean, running_var;

    public IgdEvalBatchNorm(int channels) : base("BatchNorm2d")
    {
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        running_mean = zeros(channels);
        running_var = ones(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training: false);
}

/// <summary>IGD's initialisation: the official script applies no weights_init, so every layer has PyTorch's default.</summary>
public static class IgdInitialisation
{
    /// <summary>
    /// PyTorch's default of each convolution and linear layer (weight and bias uniform ±1/√fan_in), drawn from
    /// <paramref name="generator"/> in module order; norms keep γ = 1, β = 0.
    /// </summary>
    public static void Initialise(nn.Module module, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            var (weight, bias) = m switch
            {
                Conv2d c => (c.weight, c.bias),
                Linear l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            double bound = 1 / Math.Sqrt(weight[0].numel());
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }
}
