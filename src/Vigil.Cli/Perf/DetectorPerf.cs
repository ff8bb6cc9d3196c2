using System.Diagnostics;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Engine;

namespace Vigil.Cli.Perf;

/// <summary>
/// Benchmark of the feature-embedding detectors with default options: fit time (image loading included), predict
/// latency per image (median and p95, images preloaded), process peak working-set growth and fitted-state size.
/// </summary>
public static class DetectorPerf
{
    /// <param name="extractorFactory">Opens the backbone returning the given layers (each model's own, see <see cref="DetectorCatalog"/>).</param>
    public static void Run(TextWriter output, Func<IReadOnlyList<string>, IFeatureExtractor> extractorFactory, IReadOnlyList<Sample> train, IReadOnlyList<Sample> test)
    {
        var images = test.Select(s => s.LoadImage()).ToList();
        output.WriteLine($"Detector benchmark: {train.Count} train, {test.Count} test images, {Environment.ProcessorCount} threads");
        // "ws +MiB": working set after fit minus before; "peak +MiB": growth of the process's high-water mark (0 when an
        // earlier model peaked higher).
        output.WriteLine($"{"model",-10} {"fit s",8} {"median ms",10} {"p95 ms",8} {"ws +MiB",8} {"peak +MiB",10} {"state MiB",10}  memory bank");
        foreach (var model in DetectorCatalog.Known)
        {
            var name = model.Name;
            FeatureEmbeddingDetector detector;
            var extractor = extractorFactory(model.Layers);
            try { detector = model.Create(extractor, 0); }
            catch (VigilInputException e)
            {
                extractor.Dispose();
                output.WriteLine($"{name,-10} skipped: {e.Message}");
                continue;
            }
            using (detector)
            {
                GC.Collect();
                using var process = Process.GetCurrentProcess();
                process.Refresh();
                long peakBefore = process.PeakWorkingSet64, workingSetBefore = process.WorkingSet64;

                var clock = Stopwatch.StartNew();
                detector.Fit(train);
                double fitSeconds = clock.Elapsed.TotalSeconds;
                process.Refresh();
                double fittedGrowth = (process.WorkingSet64 - workingSetBefore) / 1048576.0;

                var latencies = new List<double>();
                if (images.Count > 0) detector.Predict(images[0]); // warm-up: first-call allocations and kernel selection
                foreach (var image in images)
                {
                    clock.Restart();
                    detector.Predict(image);
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                }
                process.Refresh();
                double peakGrowth = (process.PeakWorkingSet64 - peakBefore) / 1048576.0;
                var sorted = latencies.Order().ToArray();
                output.WriteLine($"{name,-10} {fitSeconds,8:F2} {CellRunner.Percentile(sorted, 0.5),10:F1} {CellRunner.Percentile(sorted, 0.95),8:F1} " +
                                 $"{fittedGrowth,8:F0} {peakGrowth,10:F0} {detector.StateBytes / 1048576.0,10:F1}  {BankDescription(detector)}");
            }
        }
    }

    private static string BankDescription(FeatureEmbeddingDetector detector) => detector switch
    {
        PatchCoreDetector p => $"{p.MemoryBankSize} patch features x {p.Options.TargetEmbedDimension}",
        PadimDetector p => $"Gaussians over {p.Dimensions} of {p.TotalChannels} channels",
        _ => $"{detector.StateElements} values",
    };
}
