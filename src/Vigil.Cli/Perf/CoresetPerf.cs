using System.Diagnostics;
using TorchSharp;
using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Cli.Perf;

/// <summary>
/// Greedy coreset selection on real patch features: Vigil's exact pruned <see cref="KCenterGreedy"/> against the
/// straightforward libtorch loop (the official PatchCore sampler: every step recomputes all N distances to the new
/// pick). The straightforward loop costs the same every step, so it is timed on its first steps and extrapolated.
/// </summary>
public static class CoresetPerf
{
    public static void Run(TextWriter output, Tensor features, double ratio, int baselineSteps)
    {
        output.WriteLine($"Coreset benchmark: {features.shape[0]} patch features x {features.shape[1]}, ratio {ratio}, {Environment.ProcessorCount} threads");
        var clock = Stopwatch.StartNew();
        var (projected, count, starts) = KCenterGreedy.Prepare(features, ratio, seed: 0);
        double prepareSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"projection to {projected.Dimension} d and start points: {prepareSeconds:F2} s; {count} picks");

        var (picked, vigilSeconds, vigilCpu) = Timed(() => KCenterGreedy.Select(projected, count, starts));
        int steps = Math.Min(count, Math.Max(1, baselineSteps));
        var (baseline, baselineSeconds, baselineCpu) = Timed(() => ReferencePatchCore.GreedyCoreset(projected, steps, starts));
        baselineSeconds *= (double)count / steps;
        baselineCpu *= (double)count / steps;
        int agreeing = picked.Zip(baseline).TakeWhile(p => p.First == p.Second).Count();

        // CPU seconds (all threads) next to wall seconds: on a busy machine wall time mostly measures waiting.
        output.WriteLine($"{"selection",-48} {"wall s",8} {"CPU s",8} {"speed-up (wall)",16}");
        output.WriteLine($"{"straightforward libtorch (" + (steps < count ? $"{steps} steps, extrapolated" : "all steps") + ")",-48} {baselineSeconds,8:F1} {baselineCpu,8:F1} {1,16:F1}");
        output.WriteLine($"{"Vigil exact lazy greedy",-48} {vigilSeconds,8:F1} {vigilCpu,8:F1} {baselineSeconds / vigilSeconds,16:F1}");
        output.WriteLine($"first {agreeing} of {steps} picks identical (the libtorch loop rounds ||a||²−2a·b+||b||², so near-ties may differ)");
    }

    private static (T Result, double WallSeconds, double CpuSeconds) Timed<T>(Func<T> run)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var result = run();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return (result, wall, (process.TotalProcessorTime - cpu).TotalSeconds);
    }
}
