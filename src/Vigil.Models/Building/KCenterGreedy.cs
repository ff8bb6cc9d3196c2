using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Building;

/// <summary>
/// Greedy k-center (farthest-point) coreset selection, as PatchCore's ApproximateGreedyCoresetSampler:
/// every point starts with its mean distance to a few random start points, then the point farthest from
/// everything chosen so far is picked, repeatedly.
/// </summary>
public static class KCenterGreedy
{
    /// <summary>
    /// Picks <paramref name="count"/> rows of <paramref name="features"/> [N, D] greedily. Each row's initial
    /// distance is its mean Euclidean distance to the <paramref name="startPoints"/> rows (which are not
    /// themselves selected unless picked later). Returns the picked row indices in selection order.
    /// </summary>
    public static int[] Select(Tensor features, int count, IReadOnlyList<int> startPoints)
    {
        long n = features.shape[0];
        if (count < 0 || count > n) throw new ArgumentOutOfRangeException(nameof(count), $"Cannot pick {count} of {n} points.");
        if (startPoints.Count == 0) throw new ArgumentException("At least one start point is needed.", nameof(startPoints));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var norms = features.pow(2).sum(1);
        Tensor SquaredDistancesTo(long row)
        {
            var point = features[row];
            return (norms - 2 * features.mv(point) + point.dot(point)).clamp_min(0);
        }
        var initial = zeros(n, dtype: ScalarType.Float32);
        foreach (var s in startPoints) initial.add_(SquaredDistancesTo(s).sqrt());
        // Kept squared: min and argmax agree with Euclidean distances and one sqrt per step is saved.
        var minSquared = (initial / startPoints.Count).pow(2);
        var picked = new int[count];
        for (int i = 0; i < count; i++)
        {
            using var step = NewDisposeScope();
            picked[i] = (int)minSquared.argmax().item<long>();
            minSquared.copy_(minSquared.minimum(SquaredDistancesTo(picked[i])));
        }
        return picked;
    }

    /// <summary>
    /// PatchCore's approximate greedy coreset: features are randomly projected to
    /// <paramref name="projectionDimension"/> dimensions (skipped when they already have it; a bias-free linear
    /// map initialised like torch.nn.Linear, U(±1/√D)), <paramref name="startPointCount"/> random start points
    /// are drawn, and ⌊N·ratio⌋ points are picked. All randomness comes from <paramref name="seed"/>.
    /// </summary>
    public static int[] ApproximateCoreset(Tensor features, double ratio, long seed, int projectionDimension = 128, int startPointCount = 10)
    {
        if (ratio is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ratio), $"Coreset ratio {ratio} must be in (0, 1].");
        long n = features.shape[0], d = features.shape[1];
        int count = Math.Max(1, (int)(n * ratio));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var reduced = features;
        if (d != projectionDimension)
        {
            double bound = 1.0 / Math.Sqrt(d);
            var projection = rand(new long[] { d, projectionDimension }, generator: generator) * (2 * bound) - bound;
            reduced = features.matmul(projection);
        }
        int starts = (int)Math.Min(startPointCount, n);
        var startPoints = randperm(n, generator: generator).narrow(0, 0, starts).data<long>().Select(v => (int)v).ToArray();
        return Select(reduced, count, startPoints);
    }
}
