using TorchSharp;
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
    /// The inputs <see cref="ApproximateCoreset"/> hands to <see cref="Select(PaddedRows, int, IReadOnlyList{int})"/>:
    /// the projected rows, the number of picks and the start points (exposed so benchmarks can time the selection alone).
    /// </summary>
    public static (PaddedRows Projected, int Count, int[] StartPoints) Prepare(Tensor features, double ratio, long seed, int projectionDimension = 128, int startPointCount = 10)
    {
        if (ratio is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ratio), $"Coreset ratio {ratio} must be in (0, 1].");
        long n = features.shape[0], d = features.shape[1];
        int count = Math.Max(1, (int)(n * ratio));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var reduced = RandomProjection(features, projectionDimension, generator);
        int starts = (int)Math.Min(startPointCount, n);
        var startPoints = randperm(n, generator: generator).narrow(0, 0, starts).data<long>().Select(v => (int)v).ToArray();
        return (PaddedRows.FromTensor(reduced), count, startPoints);
    }

    /// <summary>
    /// The coreset's random projection of [N, D] features to <paramref name="dimension"/> columns: a bias-free linear map
    /// initialised like torch.nn.Linear, U(±1/√D), drawn from <paramref name="generator"/>; the features themselves
    /// (and nothing drawn) when they already have that many columns.
    /// </summary>
    public static Tensor RandomProjection(Tensor features, long dimension, Generator generator)
    {
        long d = features.shape[1];
        if (d == dimension) return features;
        double bound = 1.0 / Math.Sqrt(d);
        return features.matmul(rand(new long[] { d, dimension }, generator: generator) * (2 * bound) - bound);
    }
}
