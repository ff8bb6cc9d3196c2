using System.Diagnostics;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Cli.Perf;

/// <summary>
/// Benchmark of the pixel metrics (not a test): random seeded maps with blob-shaped ground truth, timed as the
/// median of a few runs after a warm-up. "sort once" is building <see cref="PixelScores"/> (pack + radix sort),
/// which every metric below then reuses.
/// </summary>
public static class MetricsPerf
{
    private const int Runs = 3;

    public static void Run(TextWriter output)
    {
        output.WriteLine($"Pixel metrics, median of {Runs} runs after a warm-up, {Environment.ProcessorCount} cores");
        output.WriteLine("(cpu = process CPU seconds, all threads: a fair figure when other jobs share the cores)");
        output.WriteLine($"{"metric",-22} {"case",-20} {"seconds",10} {"cpu",8}");
        foreach (var (name, count, size) in new[] { ("100 x 1024x1024", 100, 1024), ("1000 x 256x256", 1000, 256) })
        {
            var (maps, masks) = RandomCategory(count, size, seed: 1234);
            PixelScores pixels = null!;
            Report(output, "sort once (build)", name, () => pixels = new PixelScores(maps, masks));
            Report(output, "pixel AUROC", name, () => pixels.Auroc());
            Report(output, "pixel AP", name, () => pixels.AveragePrecision());
            Report(output, "pixel F1-max", name, () => pixels.F1Max());
            Report(output, "AU-PRO (FPR 0.3)", name, () => pixels.AuPro(0.3));
            output.WriteLine($"{"",-22} {name,-20} {pixels.RegionCount,10} regions, {pixels.AnomalousPixels} anomalous px");
            pixels = null!;
            GC.Collect();
        }
    }

    private static void Report(TextWriter output, string metric, string name, Action action)
    {
        action(); // warm-up
        var times = new double[Runs];
        var cpu = new double[Runs];
        var process = Process.GetCurrentProcess();
        for (int r = 0; r < Runs; r++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            action();
            times[r] = watch.Elapsed.TotalSeconds;
            process.Refresh();
            cpu[r] = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        Array.Sort(times);
        Array.Sort(cpu);
        output.WriteLine($"{metric,-22} {name,-20} {times[Runs / 2],10:F3} {cpu[Runs / 2],8:F3}");
    }

    /// <summary>Noise maps raised inside 0–4 elliptic blobs per image (30% of images are good).</summary>
    private static (List<ScoreMap> Maps, List<BinaryMask> Masks) RandomCategory(int count, int size, int seed)
    {
        var maps = new ScoreMap[count];
        var masks = new BinaryMask[count];
        Parallel.For(0, count, i =>
        {
            var rng = new Random(seed * 7919 + i);
            var mask = new BinaryMask(size, size);
            int blobs = rng.NextDouble() < 0.3 ? 0 : rng.Next(1, 5);
            for (int b = 0; b < blobs; b++)
            {
                double cy = rng.NextDouble() * size, cx = rng.NextDouble() * size;
                double ry = 2 + rng.NextDouble() * size / 12, rx = 2 + rng.NextDouble() * size / 12;
                for (int y = Math.Max(0, (int)(cy - ry)); y < Math.Min(size, (int)(cy + ry) + 1); y++)
                    for (int x = Math.Max(0, (int)(cx - rx)); x < Math.Min(size, (int)(cx + rx) + 1); x++)
                        if (Math.Pow((y - cy) / ry, 2) + Math.Pow((x - cx) / rx, 2) <= 1) mask[y, x] = true;
            }
            var data = new float[size * size];
            for (int p = 0; p < data.Length; p++) data[p] = rng.NextSingle() + (mask.Data[p] ? 0.5f : 0f);
            maps[i] = new ScoreMap(size, size, data);
            masks[i] = mask;
        });
        return (maps.ToList(), masks.ToList());
    }
}
