using Vigil.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// RegAD's spatial transformer on a feature map (models/stn.py STNModule): a small localisation network (3×3
/// convolution to 64 channels, batch norm, ReLU, 3×3/2 max pool, 3×3 convolution to 16 channels, batch norm, ReLU,
/// 3×3/2 max pool, then linear 1024, ReLU, linear to the mode's parameters) predicts an affine transformation, which
/// resamples the map (bilinear, reflection padding). The last linear layer starts at weight 0 and the identity's
/// parameters as bias, so an untrained transformer is the identity.
/// </summary>
internal sealed class SpatialTransformer : nn.Module<Tensor, (Tensor Output, Tensor Theta)>
{
    private readonly Sequential conv;
    private readonly Sequential fc;
    private readonly StnMode _mode;

    /// <param name="gridHeight">The feature map's height and <paramref name="gridWidth"/> width (56 at 224 pixels in stage 1; the official code fixes 56 / (4·stage)).</param>
    public SpatialTransformer(int channels, int gridHeight, int gridWidth, StnMode mode, Generator generator) : base("stn")
    {
        _mode = mode;
        conv = nn.Sequential(
            nn.Conv2d(channels, 64, 3, padding: 1, bias: false), KeptScalarBatchNorm.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, stride: 2, padding: 1),
            nn.Conv2d(64, 16, 3, padding: 1, bias: false), KeptScalarBatchNorm.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, stride: 2, padding: 1));
        int h = Halved(Halved(gridHeight)), w = Halved(Halved(gridWidth));
        var hidden = nn.Linear(16 * h * w, 1024);
        var parameters = nn.Linear(1024, Identity(mode).Length);
        fc = nn.Sequential(hidden, nn.ReLU(), parameters);
        using (no_grad())
        {
            // PyTorch's default initialisation (weights and biases uniform ±1/√fan_in; kaiming_uniform_ with a = √5 gives that
            // bound for the convolutions too), drawn from the seed; then stn.py's zero weight and identity bias.
            foreach (var c in conv.modules().OfType<Conv2d>())
            {
                double bound = 1 / Math.Sqrt(c.weight!.shape[1] * c.weight.shape[2] * c.weight.shape[3]);
                c.weight.uniform_(-bound, bound, generator);
            }
            double hiddenBound = 1 / Math.Sqrt(hidden.weight!.shape[1]);
            hidden.weight.uniform_(-hiddenBound, hiddenBound, generator);
            hidden.bias!.uniform_(-hiddenBound, hiddenBound, generator);
            parameters.weight!.zero_();
            parameters.bias!.copy_(tensor(Identity(mode)));
        }
        RegisterComponents();
    }

    /// <summary>Output size of a 3×3/2 max pool with padding 1 (and of a stride-2 ResNet stage): ⌈n / 2⌉.</summary>
    internal static int Halved(int n) => (n + 1) / 2;

    /// <summary>stn.py: the parameters that give the identity (the last layer's initial bias).</summary>
    internal static float[] Identity(StnMode mode) => mode switch
    {
        StnMode.Affine => [1, 0, 0, 0, 1, 0],
        StnMode.Translation or StnMode.Shear => [0, 0],
        StnMode.Rotation => [0],
        StnMode.Scale => [1, 1],
        StnMode.RotationScale => [0, 1, 1],
        StnMode.TranslationScale => [0, 0, 1, 1],
        StnMode.RotationTranslation => [0, 0, 0],
        StnMode.RotationTranslationScale => [0, 0, 0, 1, 1],
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>The resampled map [N, C, h, w] and its affine matrices θ [N, 2, 3].</summary>
    public override (Tensor Output, Tensor Theta) forward(Tensor x)
    {
        var p = fc.call(conv.call(x).flatten(1));
        var theta = Theta(p, _mode);
        return (Resample(x, theta), theta);
    }

    /// <summary>
    /// stn.py's matrix from predicted parameters p [N, n]: [[a, b, tx], [c, d, ty]] with a = d = 1, b = c = tx = ty = 0
    /// except what the mode sets (rotation by angle p0: a = cos, b = −sin, c = sin, d = cos; its scale modes multiply a
    /// and d only by the scales, as the official code does).
    /// </summary>
    internal static Tensor Theta(Tensor p, StnMode mode)
    {
        if (mode == StnMode.Affine) return p.view(-1, 2, 3);
        var one = ones_like(p[.., 0]);
        var zero = zeros_like(p[.., 0]);
        Tensor a = one, b = zero, tx = zero, c = zero, d = one, ty = zero;
        switch (mode)
        {
            case StnMode.Translation: (tx, ty) = (p[.., 0], p[.., 1]); break;
            case StnMode.Rotation: (a, b, c, d) = (p[.., 0].cos(), -p[.., 0].sin(), p[.., 0].sin(), p[.., 0].cos()); break;
            case StnMode.Scale: (a, d) = (p[.., 0], p[.., 1]); break;
            case StnMode.Shear: (b, c) = (p[.., 0], p[.., 1]); break;
            case StnMode.RotationScale: (a, b, c, d) = (p[.., 0].cos() * p[.., 1], -p[.., 0].sin(), p[.., 0].sin(), p[.., 0].cos() * p[.., 2]); break;
            case StnMode.TranslationScale: (tx, ty, a, d) = (p[.., 0], p[.., 1], p[.., 2], p[.., 3]); break;
            case StnMode.RotationTranslation:
                (a, b, c, d, tx, ty) = (p[.., 0].cos(), -p[.., 0].sin(), p[.., 0].sin(), p[.., 0].cos(), p[.., 1], p[.., 2]); break;
            case StnMode.RotationTranslationScale:
                (a, b, c, d, tx, ty) = (p[.., 0].cos() * p[.., 3], -p[.., 0].sin(), p[.., 0].sin(), p[.., 0].cos() * p[.., 4], p[.., 1], p[.., 2]); break;
            default: throw new ArgumentOutOfRangeException(nameof(mode), mode, null);
        }
        return stack([stack([a, b, tx], 1), stack([c, d, ty], 1)], 1);
    }

    /// <summary>F.grid_sample of maps [N, C, h, w] at F.affine_grid(θ) (bilinear, reflection padding, align_corners=False: PyTorch's defaults the official code runs with).</summary>
    public static Tensor Resample(Tensor maps, Tensor theta)
    {
        var grid = nn.functional.affine_grid(theta, maps.shape, align_corners: false);
        return nn.functional.grid_sample(maps, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: false);
    }

    /// <summary>stn.py's fixstn matrices: the inverse of each [θ; 0 0 1], first two rows, computed without gradient (as the official code does in NumPy).</summary>
    public static Tensor Inverse(Tensor theta)
    {
        using var noGrad = no_grad();
        var bottom = tensor(new float[] { 0, 0, 1 }).expand(theta.shape[0], 1, 3);
        return linalg.inv(cat([theta.detach(), bottom], 1))[.., ..2, ..];
    }
}
