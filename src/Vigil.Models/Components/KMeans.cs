using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// k-means clustering of feature rows as scikit-learn's KMeans computes it with one initialisation: greedy k-means++
/// seeding (each new centre the best, by total squared distance, of 2 + ⌊ln k⌋ candidates drawn in proportion to the
/// squared distance to the nearest centre so far), then Lloyd iterations until the centres move by at most
/// tol · (mean per-feature variance) in total squared distance, or max_iter. A cluster left empty keeps its centre.
/// </summary>
public static class KMeans
{
    /// <summary>The <paramref name="k"/> centres [k, D] of <paramref name="rows"/> [N, D] (float); draws from <paramref name="generator"/> only.</summary>
    public static Tensor Centres(Tensor rows, int k, int maxIterations, double tolerance, Generator generator)
    {
        long n = rows.shape[0];
        if (rows.dim() != 2 || n == 0) throw new ArgumentException($"k-means needs rows [N, D], got [{string.Join(", ", rows.shape)}].", nameof(rows));
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} clusters of {n} rows.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var centres = Seed(rows, k, generator);
        double threshold = tolerance * rows.var(0, unbiased: false).mean().item<float>();
        var ones = torch.ones(n, dtype: rows.dtype);
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            using var step = NewDisposeScope();
            var (_, nearest) = NearestNeighbours.Search(rows, centres);
            var assignment = nearest.squeeze(1);
            var sums = zeros_like(centres).index_add_(0, assignment, rows, 1);
            var counts = zeros(k, dtype: rows.dtype).index_add_(0, assignment, ones, 1).unsqueeze(1);
            var moved = where(counts > 0, sums / counts.clamp_min(1), centres);
            double shift = (moved - centres).square().sum().item<float>();
            centres = moved.MoveToOuterDisposeScope();
            if (shift <= threshold) break;
        }
        return centres.MoveToOuterDisposeScope();
    }

    /// <summary>scikit-learn's _kmeans_plusplus with its default n_local_trials = 2 + ⌊ln k⌋.</summary>
    private static Tensor Seed(Tensor rows, int k, Generator generator)
    {
        long n = rows.shape[0];
        int trials = 2 + (int)Math.Log(k);
        var chosen = new long[k];
        chosen[0] = randint(n, [1], generator: generator).item<long>();
        var closest = SquaredDistancesTo(rows, rows.narrow(0, chosen[0], 1)).squeeze(1);
        for (int c = 1; c < k; c++)
        {
            using var step = NewDisposeScope();
            // All rows already centres (closest all 0): any row will do.
            var weights = closest.sum().item<float>() > 0 ? closest : torch.ones_like(closest);
            var candidates = multinomial(weights, trials, replacement: true, generator: generator);
            var candidateClosest = minimum(closest.unsqueeze(1), SquaredDistancesTo(rows, rows.index_select(0, candidates)));
            long best = candidateClosest.sum(0).argmin().item<long>();
            chosen[c] = candidates[best].item<long>();
            closest = candidateClosest.select(1, best).MoveToOuterDisposeScope();
        }
        return rows.index_select(0, tensor(chosen));
    }

    /// <summary>Squared Euclidean distances [N, C] of the rows to <paramref name="centres"/> [C, D], clamped at 0.</summary>
    private static Tensor SquaredDistancesTo(Tensor rows, Tensor centres) => NearestNeighbours.SquaredDistances(rows, centres).clamp_min(0);
}
