using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>How the coupling's log-scale s (the subnet's scale output, already multiplied by 0.1) is kept bounded.</summary>
public enum SoftClamp
{
    /// <summary>clamp · tanh(s): FrEIA's AllInOneBlock up to 2023 (FrEIA 0.2), the version FastFlow and CFlow ran.</summary>
    Tanh,

    /// <summary>clamp · 0.636 · atan(s / clamp): FrEIA's GLOW and RNVP coupling blocks (and the flows written after them).</summary>
    Atan,
}

/// <summary>The activation Ψ of the global affine scaling, with FrEIA's constants.</summary>
public enum GlobalAffine
{
    /// <summary>0.1 · softplus_β=0.5(a) (FrEIA's default).</summary>
    Softplus,

    /// <summary>10 · sigmoid(a − 2).</summary>
    Sigmoid,

    /// <summary>exp(a).</summary>
    Exp,
}

/// <summary>
/// FrEIA's AllInOneBlock (vislearn/FrEIA, FrEIA/modules/all_in_one_block.py, as of the commits FastFlow and CFlow
/// pinned): an affine coupling, a global affine scaling (ActNorm) and a fixed channel permutation, with its log-det.
/// On input x [N, C] or [N, C, H, W], split along channels into x₁ (the first C − ⌊C/2⌋) and x₂ (the last ⌊C/2⌋):
/// <code>
/// a  = 0.1 · subnet([x₁, condition])           s = clamp(a[:, :⌊C/2⌋]),  t = a[:, ⌊C/2⌋:]
/// u  = [x₁, x₂ · exp(s) + t]
/// y  = P(u · Ψ(γ) + β)                         log|det J| = Σ s + (H·W) · Σ_c log Ψ(γ_c)
/// </code>
/// P is a fixed permutation of channels drawn from the generator at construction: a hard one (a random reordering)
/// or a soft one (a Haar-random rotation in SO(C), FrEIA's <c>permute_soft</c>). The condition, when the block has
/// one, has the input's spatial shape and is concatenated to x₁ along channels. The reverse direction inverts each step
/// exactly. FrEIA's options not reproduced: GIN (volume-preserving) coupling, learned Householder permutations and
/// the reversed pre-permutation, which FastFlow and CFlow leave off.
/// </summary>
public sealed class AllInOneBlock : nn.Module
{
    // Field names are FrEIA's, so state dictionaries line up with FrEIA's (RegisterComponents uses the field names).
    private readonly Parameter global_scale;
    private readonly Parameter global_offset;
    private readonly nn.Module<Tensor, Tensor> subnet;
    private readonly Tensor w_perm;
    private readonly Tensor w_perm_inv;

    private readonly int _passive, _active, _spatialDims;
    private readonly double _clamp;
    private readonly SoftClamp _softClamp;
    private readonly GlobalAffine _globalAffine;
    private readonly bool _soft;

    /// <param name="channels">C of the input.</param>
    /// <param name="spatialDims">0 for vectors [N, C], 2 for maps [N, C, H, W].</param>
    /// <param name="conditionChannels">Channels of the condition (0: an unconditional block).</param>
    /// <param name="subnet">FrEIA's subnet_constructor: called with (input channels, output channels) = (C − ⌊C/2⌋ + condition, 2·⌊C/2⌋).</param>
    /// <param name="generator">Draws the permutation.</param>
    /// <param name="clamp">FrEIA's affine_clamping.</param>
    /// <param name="globalAffineInit">Ψ(γ) at initialisation (FrEIA's global_affine_init).</param>
    /// <param name="permuteSoft">A random rotation instead of a random reordering of channels.</param>
    public AllInOneBlock(int channels, int spatialDims, int conditionChannels, Func<int, int, nn.Module<Tensor, Tensor>> subnet, Generator generator,
        double clamp = 2.0, SoftClamp softClamp = SoftClamp.Tanh, GlobalAffine globalAffine = GlobalAffine.Softplus, double globalAffineInit = 1.0,
        bool permuteSoft = false) : base(nameof(AllInOneBlock))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 2);
        if (spatialDims is not (0 or 2)) throw new ArgumentOutOfRangeException(nameof(spatialDims), "Inputs are vectors (0) or maps (2).");
        ArgumentOutOfRangeException.ThrowIfNegative(conditionChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clamp);
        _active = channels / 2;
        _passive = channels - _active;
        _spatialDims = spatialDims;
        _clamp = clamp;
        _softClamp = softClamp;
        _globalAffine = globalAffine;
        _soft = permuteSoft;
        ConditionChannels = conditionChannels;

        long[] affineShape = [1, channels, .. Enumerable.Repeat(1L, spatialDims)];
        global_scale = new Parameter(full(affineShape, (float)InitialScale(globalAffine, globalAffineInit)));
        global_offset = new Parameter(zeros(affineShape));
        if (permuteSoft)
        {
            var rotation = RandomRotation(channels, generator);
            long[] shape = [channels, channels, .. Enumerable.Repeat(1L, spatialDims)];
            w_perm = rotation.reshape(shape).contiguous();
            w_perm_inv = rotation.t().reshape(shape).contiguous();
        }
        else
        {
            w_perm = randperm(channels, generator: generator);
            w_perm_inv = w_perm.argsort();
        }
        this.subnet = subnet(_passive + conditionChannels, 2 * _active);
        RegisterComponents();
    }

    public int ConditionChannels { get; }

    /// <summary>
    /// y and log|det ∂y/∂x| [N] of <paramref name="x"/> (or, with <paramref name="reverse"/>, x and log|det ∂x/∂y| of y)
    /// under the block; <paramref name="condition"/> is required exactly when the block has condition channels.
    /// </summary>
    public (Tensor Output, Tensor LogDet) Forward(Tensor x, Tensor? condition = null, bool reverse = false)
    {
        if ((condition is null) != (ConditionChannels == 0))
            throw new ArgumentException(ConditionChannels == 0 ? "This block takes no condition." : $"This block needs a condition of {ConditionChannels} channels.");
        using var scope = NewDisposeScope();
        var scale = GlobalScale();
        var logScale = scale.log().sum();
        if (reverse) x = (Permute(x, inverse: true) - global_offset) / scale;

        var x1 = x.narrow(1, 0, _passive);
        var x2 = x.narrow(1, _passive, _active);
        var a = subnet.call(condition is null ? x1 : cat([x1, condition], 1)) * 0.1; // FrEIA: "scaled down by a factor of ten"
        var s = Clamp(a.narrow(1, 0, _active));
        var t = a.narrow(1, _active, _active);
        long[] sumDims = [.. Enumerable.Range(1, 1 + _spatialDims).Select(d => (long)d)];
        Tensor logDet;
        if (reverse)
        {
            x2 = (x2 - t) * (-s).exp();
            logDet = -s.sum(sumDims);
        }
        else
        {
            x2 = x2 * s.exp() + t;
            logDet = s.sum(sumDims);
        }
        var output = cat([x1, x2], 1);
        if (!reverse) output = Permute(output * scale + global_offset, inverse: false);

        // FrEIA: "number of elements of the first channel of the first batch member" times Σ log Ψ(γ).
        long pixels = output[0].narrow(0, 0, 1).numel();
        logDet = logDet + (reverse ? -pixels : pixels) * logScale;
        return (output.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }

    /// <summary>Ψ(γ), the global scaling per channel.</summary>
    public Tensor GlobalScale() => _globalAffine switch
    {
        GlobalAffine.Softplus => 0.1 * nn.functional.softplus(global_scale, beta: 0.5, threshold: 20),
        GlobalAffine.Sigmoid => 10 * (global_scale - 2.0).sigmoid(),
        _ => global_scale.exp(),
    };

    /// <summary>The pre-activation γ with Ψ(γ) = <paramref name="init"/>, as FrEIA computes it (in double precision).</summary>
    public static double InitialScale(GlobalAffine activation, double init)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(init);
        return activation switch
        {
            GlobalAffine.Softplus => 2.0 * Math.Log(Math.Exp(0.5 * 10.0 * init) - 1),
            GlobalAffine.Sigmoid when init < 10 => 2.0 - Math.Log(10.0 / init - 1.0),
            GlobalAffine.Sigmoid => throw new ArgumentOutOfRangeException(nameof(init), "The sigmoid scaling is below 10."),
            _ => Math.Log(init),
        };
    }

    private Tensor Clamp(Tensor s) => _softClamp == SoftClamp.Tanh
        ? _clamp * s.tanh()
        : _clamp * 0.636 * (s / _clamp).atan();

    private Tensor Permute(Tensor x, bool inverse)
    {
        var w = inverse ? w_perm_inv : w_perm;
        if (!_soft) return x.index_select(1, w);
        return _spatialDims == 0 ? nn.functional.linear(x, w) : nn.functional.conv2d(x, w);
    }

    /// <summary>
    /// A Haar-random rotation of R^n (scipy's special_ortho_group draws from the same distribution): the QR
    /// decomposition of a Gaussian matrix with R's diagonal made positive (Mezzadri 2007), one column negated when
    /// the determinant is −1.
    /// </summary>
    private static Tensor RandomRotation(int n, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (q, r) = linalg.qr(randn([n, n], dtype: ScalarType.Float64, generator: generator));
        q = q * r.diagonal().sign().unsqueeze(0);
        if (linalg.det(q).item<double>() < 0) q = q * cat([full(1, -1.0, ScalarType.Float64), ones(n - 1, ScalarType.Float64)]).unsqueeze(0);
        return q.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
