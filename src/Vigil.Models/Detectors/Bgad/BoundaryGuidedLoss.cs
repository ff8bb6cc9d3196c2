using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Detectors.Bgad;

/// <summary>
/// BGAD's losses on the log-likelihoods per dimension of a fibre batch (losses/losses.py): the boundaries taken from
/// the normal log-likelihoods, the boundary-guided semi-push-pull loss, and the asymmetric focal weights. Every
/// log-likelihood is divided by the normalizer (10) first, as there.
/// </summary>
public static class BoundaryGuidedLoss
{
    /// <summary>
    /// get_logp_boundary: the normal boundary b_n is the normal log-likelihood at index ⌊count · β⌋ (the product in
    /// float32, as torch computes it) of the ascending sort, divided by the normalizer; the abnormal boundary is b_n − τ.
    /// </summary>
    public static (double Normal, double Abnormal) Boundaries(Tensor normalLogLikelihoods, double positionBeta, double marginTau, double normalizer)
    {
        long count = normalLogLikelihoods.shape[0];
        if (count == 0) throw new ArgumentException("The boundaries need normal positions.", nameof(normalLogLikelihoods));
        long index = (long)((float)count * (float)positionBeta);
        using var sorted = normalLogLikelihoods.detach().sort().Values;
        // In float32 like the official tensors, so the position at the index lies exactly on the normal boundary.
        using var boundary = sorted[index] / normalizer;
        float normal = boundary.item<float>();
        return (normal, normal - (float)marginTau);
    }

    /// <summary>
    /// calculate_bg_spp_loss: normal positions below b_n are pulled up by (b_n − l), abnormal positions above b_a are
    /// pushed down by (l − b_a), each optionally weighted; the sum of the two sides' means. A side with no such position
    /// adds 0: the official mean of an empty set is NaN, which adds no gradient either, only a NaN loss value.
    /// </summary>
    public static Tensor SemiPushPull(Tensor normal, Tensor abnormal, (double Normal, double Abnormal) boundaries, double normalizer,
        Tensor? normalWeights = null, Tensor? abnormalWeights = null)
    {
        var n = normal / normalizer;
        var a = abnormal / normalizer;
        var pulled = n <= boundaries.Normal;
        var pushed = a >= boundaries.Abnormal;
        var pull = (boundaries.Normal - n.masked_select(pulled)) * (normalWeights?.masked_select(pulled) ?? ones(1));
        var push = (a.masked_select(pushed) - boundaries.Abnormal) * (abnormalWeights?.masked_select(pushed) ?? ones(1));
        return MeanOrZero(pull) + MeanOrZero(push);
    }

    /// <summary>The mean, or 0 for no elements.</summary>
    private static Tensor MeanOrZero(Tensor values) => values.numel() == 0 ? values.sum() : values.mean();

    /// <summary>
    /// normal_fl_weighting (γ 0.5, α 11.7): with l = log-likelihood / normalizer, weight 1 where l &gt; −0.2, else
    /// α (1 − eˡ)^γ |l| — hard normal positions (low likelihood) weigh more.
    /// </summary>
    public static Tensor NormalWeights(Tensor logLikelihoods, double normalizer)
    {
        var l = logLikelihoods.detach() / normalizer;
        var focal = 11.7 * (1 - l.exp()).pow(0.5) * l.abs();
        return where(l > -0.2, ones_like(l), focal);
    }

    /// <summary>
    /// abnormal_fl_weighting (γ 2, α 0.53): with l = log-likelihood / normalizer, weight 1 where l ≤ −1, else
    /// α (1 + eˡ)^γ / |l| — abnormal positions the flow still finds likely weigh more.
    /// </summary>
    public static Tensor AbnormalWeights(Tensor logLikelihoods, double normalizer)
    {
        var l = logLikelihoods.detach() / normalizer;
        var focal = 0.53 * (1 + l.exp()).pow(2) / l.abs();
        return where(l <= -1, ones_like(l), focal);
    }
}
