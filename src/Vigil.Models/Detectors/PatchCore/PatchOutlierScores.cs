using TorchSharp;
using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Detectors.PatchCore;

/// <summary>
/// SoftPatch's outlier scores of training patches: each patch is compared only with the patches at the same
/// feature-grid position of the other training images. Input [P, N, D] (P positions, N images); output [P, N].
/// </summary>
public static class PatchOutlierScores
{
    /// <summary>The score of <paramref name="method"/>; k is capped at N − 1. Needs at least 2 images.</summary>
    public static Tensor Compute(Tensor positions, PatchOutlierMethod method, int neighbours) => method switch
    {
        PatchOutlierMethod.Lof => LocalOutlierFactors(positions, neighbours),
        PatchOutlierMethod.Knn => MeanNeighbourDistances(positions, neighbours) + 1,
        PatchOutlierMethod.Gaussian => GaussianDistances(positions) + 1,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown patch outlier method."),
    };

    /// <summary>
    /// Local outlier factor of every point among the others at its position, as scikit-learn's
    /// LocalOutlierFactor(n_neighbors = k).negative_outlier_factor_ (negated): with N_k(a) the k nearest other
    /// points and k-distance(b) the distance of b to its k-th, reach(a, b) = max(k-distance(b), d(a, b)),
    /// lrd(a) = 1 / (mean over b in N_k(a) of reach(a, b) + 1e−10), LOF(a) = mean over b in N_k(a) of lrd(b) / lrd(a).
    /// Computed in float64; returns float64 [P, N].
    /// </summary>
    public static Tensor LocalOutlierFactors(Tensor positions, int neighbours)
    {
        using var noGrad = no_grad();
        return ByPositionChunks(positions, neighbours, (distances, neighbourDistances, neighbourIndices, k) =>
        {
            long p = distances.shape[0], n = distances.shape[1];
            var kDistance = neighbourDistances.select(2, k - 1); // [c, N]
            var reach = neighbourDistances.maximum(kDistance.gather(1, neighbourIndices.reshape(p, n * k)).reshape(p, n, k));
            var lrd = 1.0 / (reach.mean([2]) + 1e-10);
            return lrd.gather(1, neighbourIndices.reshape(p, n * k)).reshape(p, n, k).mean([2]) / lrd;
        });
    }

    /// <summary>Mean Euclidean distance of every point to its k nearest other points at its position: float64 [P, N].</summary>
    public static Tensor MeanNeighbourDistances(Tensor positions, int neighbours)
    {
        using var noGrad = no_grad();
        return ByPositionChunks(positions, neighbours, (_, neighbourDistances, _, _) => neighbourDistances.mean([2]));
    }

    /// <summary>Mahalanobis distance of every point to the Gaussian of its position's points (covariance + 0.01·I): float64 [P, N].</summary>
    public static Tensor GaussianDistances(Tensor positions)
    {
        RequireImages(positions);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var samples = positions.to_type(ScalarType.Float32).permute(1, 0, 2); // [N, P, D]
        var (mean, inverse) = Mahalanobis.Fit(samples, 0.01);
        return Mahalanobis.Distances(samples, mean, inverse).t().to_type(ScalarType.Float64).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Row indices (of the flattened scores) kept after discarding the <paramref name="discardRatio"/> highest:
    /// scores above the (1 − ratio) quantile (linear interpolation, as torch.quantile) go, as in SoftPatch.
    /// </summary>
    public static long[] Inliers(Tensor scores, double discardRatio)
    {
        var values = scores.to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray();
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        double position = (1 - discardRatio) * (sorted.Length - 1);
        int lower = (int)Math.Floor(position), upper = Math.Min(lower + 1, sorted.Length - 1);
        double threshold = sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
        return Enumerable.Range(0, values.Length).Where(i => values[i] <= threshold).Select(i => (long)i).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="score"/> on chunks of positions with their float64 pairwise distances [c, N, N] and each
    /// point's k nearest other points (self excluded by index, as scikit-learn): distances and indices [c, N, k].
    /// </summary>
    private static Tensor ByPositionChunks(Tensor positions, int neighbours, Func<Tensor, Tensor, Tensor, int, Tensor> score)
    {
        RequireImages(positions);
        if (neighbours < 1) throw new ArgumentOutOfRangeException(nameof(neighbours), "k must be at least 1.");
        long p = positions.shape[0], n = positions.shape[1];
        int k = (int)Math.Min(neighbours, n - 1);
        long chunk = Math.Max(1, (1L << 24) / (n * n)); // ~128 MiB of float64 distances per chunk
        var result = empty(p, n, dtype: ScalarType.Float64);
        using var self = eye(n, dtype: ScalarType.Bool);
        for (long start = 0; start < p; start += chunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(chunk, p - start);
            var x = positions.narrow(0, start, length).to_type(ScalarType.Float64);
            var norms = x.pow(2).sum(2);
            var squared = (norms.unsqueeze(2) + norms.unsqueeze(1) - 2 * x.bmm(x.transpose(1, 2))).clamp_min(0);
            var distances = squared.sqrt().masked_fill(self, double.PositiveInfinity);
            var (values, indices) = distances.topk(k, dim: 2, largest: false, sorted: true);
            result.narrow(0, start, length).copy_(score(distances, values, indices, k));
        }
        return result;
    }

    private static void RequireImages(Tensor positions)
    {
        if (positions.dim() != 3) throw new ArgumentException($"Patch features must be [positions, images, dimensions]; got {positions.dim()} dimensions.", nameof(positions));
        if (positions.shape[1] < 2) throw new VigilInputException($"Patch denoising compares training images with each other and needs at least 2; got {positions.shape[1]}.");
    }
}
