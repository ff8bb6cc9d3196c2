using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Options;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Spade;
using Vigil.Imaging;

namespace Vigil.Cli.Perf;

/// <summary>
/// Vigil's PatchCore, PaDiM and SPADE against their straightforward libtorch versions (<see cref="ReferenceDetector"/>)
/// in one run, on the same images and backbone: fit time (feature extraction included), predict latency per image
/// (p50, p95; images preloaded, one warm-up), peak memory, and how far the image scores of the two agree. Prints a
/// markdown table.
/// </summary>
/// <remarks>
/// Peak memory is the growth of the process's resident high-water mark (VmHWM) over its resident size before the
/// run, with the mark reset between runs (Linux: "5" written to /proc/self/clear_refs) after a full garbage collection
/// and glibc's malloc_trim; so each row is measured alone although all share one process. Memory an earlier row left
/// in the process (the runtime's heap, libtorch's thread pools) can still lower a row's growth, never raise it.
/// </remarks>
public static class ReferenceComparePerf
{
    public static readonly string[] DefaultModels = [PatchCoreDetector.ModelName, PadimDetector.ModelName, SpadeDetector.ModelName];

    public static void Run(TextWriter output, IReadOnlyList<ModelSpec> models, IBackboneProvider backbone, IReadOnlyList<Sample> train, IReadOnlyList<Sample> test)
    {
        var images = test.Select(s => s.LoadImage()).ToList();
        output.WriteLine($"Vigil vs straightforward libtorch: {train.Count} train, {test.Count} test images, {Environment.ProcessorCount} threads; " +
                         "peak = resident high-water mark growth");
        output.WriteLine();
        output.WriteLine("| model | implementation | fit s | predict p50 ms | predict p95 ms | peak MiB |");
        output.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var spec in models)
        {
            var name = spec.Module.Info.Name;
            RequireMemoryForReference(spec, backbone, train); // before Vigil's fit, which could take minutes for nothing
            var vigil = Measure(() =>
            {
                var detector = spec.CreateTrainer().Fit(new TrainingData(train), new TrainingContext(0, backbone));
                return (detector, image => detector.Predict(image).Score);
            }, images);
            var reference = Measure(() =>
            {
                var detector = CreateReference(spec.Options, backbone);
                detector.Fit(train);
                return (detector, image => detector.Predict(image).Score);
            }, images);
            double worst = vigil.Scores.Zip(reference.Scores).Max(p => Math.Abs(p.First - p.Second) / Math.Max(Math.Abs(p.Second), 1e-12));
            output.WriteLine($"| {name} | straightforward libtorch | {reference.FitSeconds:F2} | {reference.P50:F1} | {reference.P95:F1} | {reference.PeakMiB:F0} |");
            output.WriteLine($"| {name} | Vigil | {vigil.FitSeconds:F2} | {vigil.P50:F1} | {vigil.P95:F1} | {vigil.PeakMiB:F0} |");
            output.WriteLine($"| {name} | Vigil / straightforward | {vigil.FitSeconds / reference.FitSeconds:F2}x | {vigil.P50 / reference.P50:F2}x | " +
                             $"{vigil.P95 / reference.P95:F2}x | {vigil.PeakMiB / reference.PeakMiB:F2}x |");
            output.WriteLine($"({name}: image scores of the two differ by at most {worst:E1} relative)");
        }
    }

    /// <summary>The straightforward version of a model's options; PatchCore, PaDiM and SPADE have one.</summary>
    public static ReferenceDetector CreateReference(IDetectorOptions options, IBackboneProvider backbone) => options switch
    {
        PatchCoreOptions o => new ReferencePatchCore(backbone.Open(o.Layers), o),
        PadimOptions o => new ReferencePadim(backbone.Open(o.Layers), o),
        SpadeOptions o => new ReferenceSpade(backbone.Open([o.GlobalLayer, .. o.PyramidLayers]), o),
        _ => throw new VigilInputException($"There is no straightforward reference for {options.GetType().Name}; compare patchcore, padim or spade."),
    };

    /// <summary>Training images of the two probe fits that estimate the straightforward version's memory.</summary>
    private const int SmallProbe = 5, LargeProbe = 10;

    /// <summary>
    /// Refuses a comparison whose straightforward version would not fit in memory: it holds every training patch, so its
    /// peak grows linearly with the training images (762 MTD images took the process past 16 GB and the kernel killed
    /// it, minutes in and with no word). Two small fits give the growth per image; the estimate for all images must
    /// stay under the memory the system has available.
    /// </summary>
    internal static void RequireMemoryForReference(ModelSpec spec, IBackboneProvider backbone, IReadOnlyList<Sample> train)
    {
        if (train.Count <= LargeProbe || !File.Exists("/proc/meminfo")) return;
        double Peak(int images)
        {
            long before = ResetPeak();
            using (var probe = CreateReference(spec.Options, backbone)) probe.Fit(train.Take(images).ToList());
            return (Resident("VmHWM") - before) * 1024.0;
        }
        Peak(1); // one-time costs (libtorch's threads, first kernels) would otherwise land in the first probe
        double small = Peak(SmallProbe), large = Peak(LargeProbe);
        double perImage = Math.Max(0, (large - small) / (LargeProbe - SmallProbe));
        double needed = large + perImage * (train.Count - LargeProbe);
        double available = MemInfo("MemAvailable") * 1024.0;
        if (needed <= available) return;
        int fits = LargeProbe + (int)Math.Max(0, (available - large) / Math.Max(perImage, 1));
        throw new VigilInputException($"The straightforward {spec.Module.Info.Name} holds every training patch: about {needed / (1 << 30):F1} GiB for " +
            $"{train.Count} training images (estimated from fits on {SmallProbe} and {LargeProbe}), more than the {available / (1 << 30):F1} GiB this " +
            $"machine has available. Compare on fewer images, e.g. --train {fits}.");
    }

    private sealed record Result(double FitSeconds, double P50, double P95, double PeakMiB, float[] Scores);

    private static Result Measure(Func<(IDisposable Detector, Func<ImageTensor, float> Predict)> fit, IReadOnlyList<ImageTensor> images)
    {
        long before = ResetPeak();
        var clock = Stopwatch.StartNew();
        var (detector, predict) = fit();
        using (detector)
        {
            double fitSeconds = clock.Elapsed.TotalSeconds;
            predict(images[0]); // warm-up: first-call allocations and kernel selection
            var scores = new float[images.Count];
            var latencies = images.Select((image, i) => Timing.Milliseconds(() => scores[i] = predict(image))).Order().ToArray();
            double peak = (Resident("VmHWM") - before) / 1024.0;
            return new Result(fitSeconds, Timing.Percentile(latencies, 0.5), Timing.Percentile(latencies, 0.95), peak, scores);
        }
    }

    /// <summary>
    /// Collects garbage (compacting the large-object heap), hands freed native memory back to the system, resets the
    /// resident high-water mark to the current resident size and returns it (KiB).
    /// </summary>
    private static long ResetPeak()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        malloc_trim(0); // libtorch's freed tensors stay in glibc's heap otherwise, and would hide the next row's growth
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Resident("VmRSS");
    }

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);

    /// <summary>A /proc/self/status memory line in KiB (VmRSS: resident now, VmHWM: its high-water mark).</summary>
    private static long Resident(string field) => KibLine("/proc/self/status", field);

    /// <summary>A /proc/meminfo line in KiB (MemAvailable: what can be allocated without swapping).</summary>
    private static long MemInfo(string field) => KibLine("/proc/meminfo", field);

    private static long KibLine(string file, string field)
    {
        var line = File.ReadLines(file).First(l => l.StartsWith(field + ":"));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
    }
}
