using System.Diagnostics;
using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Registry;

namespace Vigil.Cli.Perf;

/// <summary>
/// Benchmark of every registered detector with default options: fit time (image loading included), predict
/// latency per image (median and p95, images preloaded), process peak working-set growth and fitted-state size.
/// </summary>
public static class DetectorPerf
{
    public static void Run(TextWriter output, IBackboneProvider backbone, IReadOnlyList<Sample> train, IReadOnlyList<Sample> test)
    {
        var images = test.Select(s => s.LoadImage()).ToList();
        output.WriteLine($"Detector benchmark: {train.Count} train, {test.Count} test images, {Environment.ProcessorCount} threads");
        // "ws +MiB": working set after fit minus before; "peak +MiB": growth of the process's high-water mark (0 when an
        // earlier model peaked higher).
        output.WriteLine($"{"model",-10} {"fit s",8} {"median ms",10} {"p95 ms",8} {"ws +MiB",8} {"peak +MiB",10} {"state MiB",10}  fitted state");
        foreach (var module in DetectorRegistry.All)
        {
            var name = module.Info.Name;
            GC.Collect();
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            long peakBefore = process.PeakWorkingSet64, workingSetBefore = process.WorkingSet64;
            IDetector detector = null!;
            double fitMs;
            try
            {
                fitMs = Timing.Milliseconds(() => detector = DetectorRegistry.Parse(name).CreateTrainer().Fit(new TrainingData(train), new TrainingContext(0, backbone)));
            }
            catch (VigilInputException e)
            {
                output.WriteLine($"{name,-10} skipped: {e.Message}");
                continue;
            }
            using (detector)
            {
                process.Refresh();
                double fittedGrowth = (process.WorkingSet64 - workingSetBefore) / 1048576.0;
                if (images.Count > 0) detector.Predict(images[0]); // warm-up: first-call allocations and kernel selection
                var latencies = images.Select(image => Timing.Milliseconds(() => detector.Predict(image))).Order().ToArray();
                process.Refresh();
                double peakGrowth = (process.PeakWorkingSet64 - peakBefore) / 1048576.0;
                output.WriteLine($"{name,-10} {fitMs / 1000,8:F2} {Timing.Percentile(latencies, 0.5),10:F1} {Timing.Percentile(latencies, 0.95),8:F1} " +
                                 $"{fittedGrowth,8:F0} {peakGrowth,10:F0} {detector.StateBytes / 1048576.0,10:F1}  {detector.StateSummary}");
            }
        }
    }
}
