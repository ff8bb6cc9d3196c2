using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Exact k-nearest-neighbour search under squared Euclidean distance, computed block by block as
/// ||q||² − 2 q·b + ||b||² with matrix products, so no queries × bank distance matrix is ever materialised.
/// </summary>
public static class NearestNeighbours
{
    /// <summary>Bank rows per block: a 4096 × 4096 float block is 64 MiB, small next to the bank itself.</summary>
    public const int DefaultBlockSize = 4096;

    /// <summary>
    /// Every squared distance ‖q‖² + ‖c‖² − 2 q·c of the rows [..., D] to <paramref name="centres"/> [C, D]: [..., C], as one
    /// matrix (for few centres, e.g. k-means or CFA's memory; not clamped at 0, and differentiable).
    /// </summary>
    public static Tensor SquaredDistances(Tensor rows, Tensor centres)
    {
        using var scope = NewDisposeScope();
        var distances = rows.square().sum(-1, keepdim: true) + centres.square().sum(-1) - 2 * rows.matmul(centres.t());
        return distances.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For each query row, the <paramref name="k"/> smallest squared distances to the bank rows (ascending) and
    /// their bank row indices. Ties keep the lowest index. Inputs are float [M, D] and [N, D]; k is capped at N.
    /// </summary>
    public static (Tensor SquaredDistances, Tensor Indices) Search(Tensor queries, Tensor bank, int k = 1, int blockSize = DefaultBlockSize)
    {
        if (queries.dim() != 2 || bank.dim() != 2 || queries.shape[1] != bank.shape[1])
            throw new ArgumentException($"Queries {Shape(queries)} and bank {Shape(bank)} must be [M, D] and [N, D] with the same D.");
        if (bank.shape[0] == 0) throw new ArgumentException("The bank is empty.", nameof(bank));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1.");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), "Block size must be at least 1.");
        long n = bank.shape[0], m = queries.shape[0];
        k = (int)Math.Min(k, n);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var queryNorms = queries.pow(2).sum(1, keepdim: true);
        Tensor bestValues = full(m, k, float.PositiveInfinity, dtype: ScalarType.Float32);
        Tensor bestIndices = full(m, k, -1L, dtype: ScalarType.Int64);
        for (long start = 0; start < n; start += blockSize)
        {
            using var blockScope = NewDisposeScope();
            long length = Math.Min(blockSize, n - start);
            var block = bank.narrow(0, start, length);
            // ‖b‖² − 2 q·b in one fused product; ‖q‖² is the same along a row, so it is added only to the winners.
            var distances = block.pow(2).sum(1).unsqueeze(0).addmm(queries, block.t(), beta: 1, alpha: -2);
            Tensor values, indices;
            if (k == 1)
            {
                var (v, i) = distances.min(1, keepdim: true);
                // Strictly smaller only: an earlier block wins ties, as in a brute-force argmin.
                var better = v < bestValues;
                values = where(better, v, bestValues);
                indices = where(better, i + start, bestIndices);
            }
            else
            {
                int blockK = (int)Math.Min(k, length);
                var (v, i) = distances.topk(blockK, dim: 1, largest: false, sorted: true);
                var (merged, order) = cat([bestValues, v], 1).sort(dim: 1, stable: true);
                values = merged.narrow(1, 0, k);
                indices = cat([bestIndices, i + start], 1).gather(1, order.narrow(1, 0, k));
            }
            bestValues = values.MoveToOuterDisposeScope();
            bestIndices = indices.MoveToOuterDisposeScope();
        }
        return ((bestValues + queryNorms).clamp_min(0).MoveToOuterDisposeScope(), bestIndices.MoveToOuterDisposeScope());
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
