using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Greedy k-center (farthest-point) coreset selection, as PatchCore's ApproximateGreedyCoresetSampler:
/// every point starts with its mean distance to a few random start points, then the point farthest from
/// everything chosen so far is picked, repeatedly.
/// </summary>
/// <remarks>
/// The result is exactly that of the straightforward algorithm (rescan every point after every pick) computed with
/// <see cref="PaddedRows.SquaredDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>: each point's current value is
/// the float min over picks of that squared distance (initially the square of its float mean distance to the start
/// points, summed in start-point order), and each step picks the largest value, the lowest row index among equal
/// values. Speed comes from evaluating lazily (a point is only brought up to date when it might be the next pick)
/// and abandoning distances that cannot lower a value, not from approximating.
/// </remarks>
public static class KCenterGreedy
{
    /// <summary>
    /// Picks <paramref name="count"/> rows of <paramref name="features"/> [N, D] greedily. Each row's initial
    /// distance is its mean Euclidean distance to the <paramref name="startPoints"/> rows (which are not
    /// themselves selected unless picked later). Returns the picked row indices in selection order.
    /// </summary>
    public static int[] Select(Tensor features, int count, IReadOnlyList<int> startPoints)
    {
        if (features.dim() != 2) throw new ArgumentException($"Features must be [N, D], got rank {features.dim()}.", nameof(features));
        long n = features.shape[0];
        if (count < 0 || count > n) throw new ArgumentOutOfRangeException(nameof(count), $"Cannot pick {count} of {n} points.");
        return Select(PaddedRows.FromTensor(features), count, startPoints);
    }

    /// <inheritdoc cref="Select(Tensor, int, IReadOnlyList{int})"/>
    public static int[] Select(PaddedRows features, int count, IReadOnlyList<int> startPoints, CancellationToken cancel = default)
    {
        if (count < 0 || count > features.Count) throw new ArgumentOutOfRangeException(nameof(count), $"Cannot pick {count} of {features.Count} points.");
        if (startPoints.Count == 0) throw new ArgumentException("At least one start point is needed.", nameof(startPoints));
        foreach (var s in startPoints)
            if (s < 0 || s >= features.Count) throw new ArgumentOutOfRangeException(nameof(startPoints), $"Start point {s} is not a row of {features.Count}.");
        return count == 0 ? [] : new LazyGreedy(features, startPoints).Pick(count, cancel);
    }

    /// <summary>
    /// PatchCore's approximate greedy coreset: features are randomly projected to
    /// <paramref name="projectionDimension"/> dimensions (skipped when they already have it; a bias-free linear
    /// map initialised like torch.nn.Linear, U(±1/√D)), <paramref name="startPointCount"/> random start points
    /// are drawn, and ⌊N·ratio⌋ points are picked. All randomness comes from <paramref name="seed"/>.
    /// </summary>
    public static int[] ApproximateCoreset(Tensor features, double ratio, long seed, int projectionDimension = 128, int startPointCount = 10,
        CancellationToken cancel = default)
    {
        var (reduced, count, startPoints) = Prepare(features, ratio, seed, projectionDimension, startPointCount);
        return Select(reduced, count, startPoints, cancel);
    }

    /// <summary>
    /// <see cref="ApproximateCoreset(Tensor, double, long, int, int, CancellationToken)"/> on rows already added to
    /// <paramref name="projection"/> (all of them): the same picks as that call on the same rows with the projection's seed.
    /// </summary>
    public static int[] ApproximateCoreset(CoresetProjection projection, double ratio, int startPointCount = 10, CancellationToken cancel = default)
    {
        var rows = projection.Projected;
        return Select(rows, PickCount(rows.Count, ratio), projection.StartPoints(rows.Count, startPointCount), cancel);
    }

    /// <summary>
    /// The inputs <see cref="ApproximateCoreset(Tensor, double, long, int, int, CancellationToken)"/> hands to
    /// <see cref="Select(PaddedRows, int, IReadOnlyList{int}, CancellationToken)"/>: the projected rows, the number of
    /// picks and the start points (exposed so benchmarks can time the selection alone).
    /// </summary>
    public static (PaddedRows Projected, int Count, int[] StartPoints) Prepare(Tensor features, double ratio, long seed, int projectionDimension = 128, int startPointCount = 10)
    {
        int n = (int)features.shape[0];
        int count = PickCount(n, ratio);
        using var projection = new CoresetProjection(features.shape[1], projectionDimension, seed, n);
        projection.Add(features);
        return (projection.Projected, count, projection.StartPoints(n, startPointCount));
    }

    /// <summary>⌊N·ratio⌋ picks, at least one.</summary>
    private static int PickCount(int n, double ratio)
    {
        if (ratio is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ratio), $"Coreset ratio {ratio} must be in (0, 1].");
        return Math.Max(1, (int)(n * ratio));
    }
}
