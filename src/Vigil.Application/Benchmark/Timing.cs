using System.Diagnostics;

namespace Vigil.Benchmark;

/// <summary>The one way Vigil times work: latency per call after a warm-up, percentiles, and throughput per batch size.</summary>
public static class Timing
{
    /// <summary>Wall time of one call, in milliseconds.</summary>
    public static double Milliseconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Linear interpolation between closest ranks (numpy's default), on sorted values; the one latency percentile in Vigil.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double position = q * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    /// <summary>Batch sizes tried for throughput.</summary>
    public static readonly int[] ThroughputBatchSizes = [1, 2, 4, 8];

    /// <summary>
    /// Items per second at the fastest batch size of <see cref="ThroughputBatchSizes"/> that fits in
    /// <paramref name="items"/>: per size, one warm-up batch, then as many whole batches as the items give.
    /// </summary>
    public static (double PerSecond, int BatchSize) Throughput<T>(IReadOnlyList<T> items, Action<IReadOnlyList<T>> run,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        var sizes = ThroughputBatchSizes.Where(b => b <= items.Count).ToList();
        (double, int) best = (0, 1);
        for (int k = 0; k < sizes.Count; k++)
        {
            cancel.ThrowIfCancellationRequested();
            int b = sizes[k];
            run(items.Take(b).ToList());
            var clock = Stopwatch.StartNew();
            int done = 0;
            for (; done + b <= items.Count; done += b) run(items.Skip(done).Take(b).ToList());
            double rate = done / clock.Elapsed.TotalSeconds;
            if (rate > best.Item1) best = (rate, b);
            progress?.Report((k + 1, sizes.Count));
        }
        return best;
    }
}
