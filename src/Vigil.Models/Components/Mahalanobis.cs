using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Per-position multivariate Gaussians (PaDiM): a mean and a regularised inverse covariance for each of P
/// positions, and the Mahalanobis distance of new feature vectors to them.
/// </summary>
public static class Mahalanobis
{
    /// <summary>
    /// Fits embeddings [N, P, D] (N samples): mean [P, D] and inverse of the unbiased (N − 1) covariance plus
    /// <paramref name="regularisation"/>·I, [P, D, D], as the PaDiM reference (np.cov + 0.01·I).
    /// </summary>
    public static (Tensor Mean, Tensor InverseCovariance) Fit(Tensor embeddings, double regularisation)
    {
        long n = embeddings.shape[0], d = embeddings.shape[2];
        if (n < 2) throw new ArgumentException($"A covariance needs at least 2 samples; got {n}.", nameof(embeddings));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long p = embeddings.shape[1];
        var mean = embeddings.to_type(ScalarType.Float64).mean([0]);
        var inverse = empty(p, d, d, dtype: ScalarType.Float32);
        var identity = eye(d, dtype: ScalarType.Float64) * regularisation;
        // Float64 like np.cov, in chunks of positions so the double-precision [chunk, D, D] stays small.
        long chunk = Math.Max(1, (1L << 26) / (d * d));
        for (long start = 0; start < p; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long length = Math.Min(chunk, p - start);
            var x = embeddings.narrow(1, start, length).to_type(ScalarType.Float64);
            var centred = (x - mean.narrow(0, start, length)).permute(1, 0, 2); // [chunk, N, D]
            var covariance = centred.transpose(1, 2).bmm(centred) / (n - 1) + identity;
            inverse.narrow(0, start, length).copy_(linalg.inv(covariance));
        }
        return (mean.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), inverse.MoveToOuterDisposeScope());
    }

    /// <summary>Distances √((x − μ)ᵀ Σ⁻¹ (x − μ)) of features [B, P, D] to the per-position Gaussians: [B, P].</summary>
    public static Tensor Distances(Tensor features, Tensor mean, Tensor inverseCovariance)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var diff = (features - mean).permute(1, 0, 2); // [P, B, D]
        var squared = (diff.bmm(inverseCovariance) * diff).sum(-1); // [P, B]
        return squared.clamp_min(0).sqrt().t().contiguous().MoveToOuterDisposeScope();
    }
}
