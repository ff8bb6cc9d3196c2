using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>Log-likelihoods of a normalizing flow's outputs under the standard normal base distribution.</summary>
public static class FlowLikelihood
{
    /// <summary>ln √(2π), as CFlow's utils.py spells it (<c>_GCONST_</c>).</summary>
    public const double LogSqrtTwoPi = 0.9189385332046727;

    /// <summary>
    /// log p(x) = −C · ln √(2π) − ½ Σ_c z_c² + log|det J| per row of <paramref name="z"/> [N, C] (CFlow's
    /// <c>get_logp</c>): the density of the flow's input x whose output is z.
    /// </summary>
    public static Tensor Gaussian(Tensor z, Tensor logDet) => z.shape[1] * -LogSqrtTwoPi - 0.5 * z.square().sum(1) + logDet;
}
