using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>How the coupling's log-scale s (the subnet's scale output, already multiplied by 0.1) is kept in ±clamp.</summary>
public enum SoftClamp
{
    /// <summary>
    /// clamp · tanh(s): FrEIA's AllInOneBlock until 2023-08, at every commit FastFlow (gathierry, open-iad, anomalib's
    /// copy) and CFlow-AD ran.
    /// </summary>
    Tanh,

    /// <summary>clamp · tanh(s / clamp): FrEIA's AllInOneBlock since 2023-08 (commit ae74fd4), slope 1 at 0.</summary>
    ScaledTanh,

    /// <summary>clamp · 0.636 · atan(s): FrEIA's "ATAN" clamp activation of its GLOW and RNVP coupling blocks.</summary>
    Atan,
}

/// <summary>The activation Ψ of the global affine scaling, with FrEIA's constants (its global_affine_type).</summary>
public enum GlobalAffine
{
    /// <summary>"SOFTPLUS": 0.1 · softplus_β=0.5(γ), FrEIA's default.</summary>
    Softplus,

    /// <summary>"SIGMOID": 10 · sigmoid(γ − 2).</summary>
    Sigmoid,

    /// <summary>"EXP": exp(γ).</summary>
    Exp,
}

/// <summary>
/// FrEIA's AllInOneBlock (vislearn/FrEIA, FrEIA/modules/all_in_one_block.py at the commits FastFlow and CFlow-AD
/// pinned): an affine coupling, a global affine scaling (ActNorm) and a fixed channel permutation, with the log-det.
/// On input x [N, C] or [N, C, H, W], split along channels into x₁ (the first C − ⌊C/2⌋) and x₂ (the last ⌊C/2⌋):
/// <code>
/// a = 0.1 · subnet([x₁, condition])          s = clamp(a[:, :⌊C/2⌋])  (GIN: minus its mean over all but N)
/// t = a[:, ⌊C/2⌋:]                           u = [x₁, x₂ · exp(s) + t]
/// y = P(u · Ψ(γ) + β)                        log|det ∂y/∂x| = Σ s + (H·W) · Σ_c log Ψ(γ_c)   (GIN: Ψ = 1)
/// </code>
/// P is a fixed permutation drawn at construction from the generator: a random reordering of channels (hard) or a
/// Haar-random rotation in SO(C) (<c>permute_soft</c>). With <c>reverse_permutation</c> the input is first
/// multiplied by P⁻¹. A condition has the input's spatial shape and is concatenated to x₁ along channels. The reverse
/// direction inverts every step exactly and negates the log-det. FrEIA's learned Householder permutations, which
/// neither FastFlow nor CFlow-AD uses, are not reproduced.
/// State names are FrEIA's: global_scale, global_offset [1, C(, 1, 1)], subnet.*, w_perm, w_perm_inv. A hard
/// permutation is stored as FrEIA has since 2023-06, the index w_perm[i] = j of "output channel i is input channel j"
/// (int64 [C]); the pinned FrEIA stored the one-hot matrix [C, C(, 1, 1)] instead, whose argmax along dimension 1 is
/// that index. A soft one is the float matrix [C, C(, 1, 1)] in both.
/// </summary>
public sealed class AllInOneBlock : nn.Module
{
    // Field names are FrEIA's, so state dictionaries line up with FrEIA's (RegisterComponents uses the field names).
    private readonly Parameter global_scale;
    private readonly Parameter global_offset;
    private readonly nn.Module<Tensor, Tensor> subnet;
    private readonly Tensor w_perm;
    private readonly Tensor w_perm_inv;

    private readonly int _channels, _passive, _active, _spatialDims;
    private readonly double _clamp;
    private readonly SoftClamp _softClamp;
    private readonly GlobalAffine _globalAffine;
    private readonly bool _soft, _gin, _reversePermutation;

    /// <param name="channels">C of the input.</param>
    /// <param name="spatialDims">0 for vectors [N, C], 2 for maps [N, C, H, W].</param>
    /// <param name="conditionChannels">Channels of the condition (0: an unconditional block).</param>
    /// <param name="subnet">FrEIA's subnet_constructor: called once with (input, output) channels = (C − ⌊C/2⌋ + condition, 2·⌊C/2⌋).</param>
    /// <param name="generator">Draws the permutation (before <paramref name="subnet"/> is called, as in FrEIA).</param>
    /// <param name="clamp">FrEIA's affine_clamping (2).</param>
    /// <param name="softClamp">The clamp activation (AllInOneBlock's tanh at the pinned commits).</param>
    /// <param name="globalAffine">FrEIA's global_affine_type (SOFTPLUS).</param>
    /// <param name="globalAffineInit">Ψ(γ) at initialisation, FrEIA's global_affine_init (1).</param>
    /// <param name="permuteSoft">A random rotation instead of a random reordering of channels (false).</param>
    /// <param name="ginBlock">GIN (Sorrenson et al. 2019): volume-preserving coupling and no global scaling (false).</param>
    /// <param name="reversePermutation">Multiply the input by P⁻¹ before the coupling (Putzky et al. 2019; false).</param>
    public AllInOneBlock(int channels, int spatialDims, int conditionChannels, Func<int, int, nn.Module<Tensor, Tensor>> subnet, Generator generator,
        double clamp = 2.0, SoftClamp softClamp = SoftClamp.Tanh, GlobalAffine globalAffine = GlobalAffine.Softplus, double globalAffineInit = 1.0,
        bool permuteSoft = false, bool ginBlock = false, bool reversePermutation = false) : base(nameof(AllInOneBlock))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 2);
        if (spatialDims is not (0 or 2)) throw new ArgumentOutOfRangeException(nameof(spatialDims), "Inputs are vectors (0) or maps (2).");
        ArgumentOutOfRangeException.ThrowIfNegative(conditionChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clamp);
        _channels = channels;
        _active = channels / 2;
        _passive = channels - _active;
        _spatialDims = spatialDims;
        _clamp = clamp;
        _softClamp = softClamp;
        _globalAffine = globalAffine;
        _soft = permuteSoft;
        _gin = ginBlock;
        _reversePermutation = reversePermutation;
        ConditionChannels = conditionChannels;

        long[] affineShape = [1, channels, .. Enumerable.Repeat(1L, spatialDims)];
        // FrEIA: torch.ones(...) * float(global_scale), the pre-activation computed in double precision.
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

    public int Channels => _channels;

    public int ConditionChannels { get; }

    /// <summary>
    /// y and log|det ∂y/∂x| [N] of <paramref name="x"/> (or, with <paramref name="reverse"/>, x and log|det ∂x/∂y| of y)
    /// under the block; <paramref name="condition"/> is required exactly when the block has condition channels.
    /// </summary>
    public (Tensor Output, Tensor LogDet) Forward(Tensor x, Tensor? condition = null, bool reverse = false)
    {
        if ((condition is null) != (ConditionChannels == 0))
            throw new ArgumentException(ConditionChannels == 0 ? "This block takes no condition." : $"This block needs a condition of {ConditionChannels} channels.");
        if (x.dim() != 2 + _spatialDims || x.shape[1] != _channels)
            throw new ArgumentException($"This block takes [N, {_channels}{(_spatialDims == 0 ? "" : ", H, W")}] inputs; got [{string.Join(", ", x.shape)}].");
        using var scope = NewDisposeScope();
        var scale = _gin ? null : GlobalScale();
        if (reverse) x = scale is null ? Permute(x, inverse: true) - global_offset : (Permute(x, inverse: true) - global_offset) / scale;
        else if (_reversePermutation) x = Permute(x, inverse: true);

        var x1 = x.narrow(1, 0, _passive);
        var x2 = x.narrow(1, _passive, _active);
        var a = subnet.call(condition is null ? x1 : cat([x1, condition], 1)) * 0.1; // FrEIA: "scaled down by a factor of ten"
        var s = Clamp(a.narrow(1, 0, _active));
        var t = a.narrow(1, _active, _active);
        long[] sumDims = [.. Enumerable.Range(1, 1 + _spatialDims).Select(d => (long)d)];
        if (_gin) s = s - s.mean(sumDims, keepdim: true);
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
        if (!reverse) output = Permute(scale is null ? output + global_offset : output * scale + global_offset, inverse: false);
        else if (_reversePermutation) output = Permute(output, inverse: false);

        if (scale is not null)
        {
            // FrEIA: "number of elements of the first channel of the first batch member" times Σ log Ψ(γ).
            long pixels = output[0].narrow(0, 0, 1).numel();
            logDet = logDet + (reverse ? -pixels : pixels) * scale.log().sum();
        }
        return (output.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }

    /// <summary>Ψ(γ), the global scaling per channel [1, C(, 1, 1)] (a GIN block does not apply it).</summary>
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

    /// <summary>The soft clamp of log-scales <paramref name="s"/> with bound <paramref name="clamp"/>.</summary>
    public static Tensor Clamp(Tensor s, double clamp, SoftClamp activation) => activation switch
    {
        SoftClamp.Tanh => clamp * s.tanh(),
        SoftClamp.ScaledTanh => clamp * (s / clamp).tanh(),
        _ => clamp * (0.636 * s.atan()),
    };

    private Tensor Clamp(Tensor s) => Clamp(s, _clamp, _softClamp);

    private Tensor Permute(Tensor x, bool inverse)
    {
        var w = inverse ? w_perm_inv : w_perm;
        if (!_soft) return x.index_select(1, w);
        return _spatialDims == 0 ? nn.functional.linear(x, w) : nn.functional.conv2d(x, w);
    }

    /// <summary>
    /// A Haar-random rotation of Rⁿ, the distribution scipy's special_ortho_group (FrEIA's source) draws from: the QR
    /// decomposition of a Gaussian matrix with R's diagonal made positive (Mezzadri 2007), then, when the determinant
    /// is −1, the first column negated (a measure-preserving map from the other coset of O(n) onto SO(n)).
    /// </summary>
    private static Tensor RandomRotation(int n, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (q, r) = linalg.qr(randn([n, n], dtype: ScalarType.Float64, generator: generator));
        q = q * r.diagonal().sign().unsqueeze(0);
        if (linalg.det(q).item<double>() < 0) q[.., 0].neg_();
        return q.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
