using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// One multivariate Gaussian of feature vectors with the Ledoit–Wolf shrunk covariance, as scikit-learn's
/// <c>LedoitWolf().fit(X)</c> (assume_centered=False) computes it: the biased (1/N) empirical covariance S shrunk
/// towards μ·I with μ = tr(S)/D, by the shrinkage that minimises the expected squared error (Ledoit and Wolf, 2004).
/// Used by the methods whose reference fits <c>sklearn.covariance.LedoitWolf</c> (DNE, CutPaste's density).
/// </summary>
public static class LedoitWolf
{
    /// <summary>Mean [D], shrunk covariance [D, D] and its inverse [D, D] of the rows [N, D] (float64 inside, like scikit-learn).</summary>
    public static (Tensor Mean, Tensor Covariance, Tensor Precision) Fit(Tensor rows)
    {
        long n = rows.shape[0], d = rows.shape[1];
        if (n < 2) throw new ArgumentException($"A covariance needs at least 2 samples; got {n}.", nameof(rows));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = rows.to_type(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var empirical = centred.t().matmul(centred) / n;
        double shrinkage = Shrinkage(centred, empirical);
        double mu = empirical.trace().item<double>() / d;
        var covariance = (1 - shrinkage) * empirical + eye(d, dtype: ScalarType.Float64) * (shrinkage * mu);
        // sklearn's precision_ is scipy.linalg.pinvh of the covariance: the symmetric pseudo-inverse.
        var precision = linalg.pinv(covariance, hermitian: true);
        return (mean.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), covariance.to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            precision.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>sklearn.covariance.ledoit_wolf_shrinkage on centred rows: min(β, δ)/δ in [0, 1] (0 when S is already μ·I).</summary>
    private static double Shrinkage(Tensor centred, Tensor empirical)
    {
        long n = centred.shape[0], d = centred.shape[1];
        var squares = centred.square();
        double traceSum = squares.sum().item<double>() / n; // Σ diag(S)
        double mu = traceSum / d;
        double betaSum = squares.t().matmul(squares).sum().item<double>();
        double deltaSum = (empirical * n).square().sum().item<double>() / ((double)n * n);
        double beta = (betaSum / n - deltaSum) / (d * (double)n);
        double delta = (deltaSum - 2 * mu * traceSum + d * mu * mu) / d;
        beta = Math.Min(beta, delta);
        return beta == 0 ? 0 : beta / delta;
    }
}
