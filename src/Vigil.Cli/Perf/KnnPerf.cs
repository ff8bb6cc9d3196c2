using System.Diagnostics;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Registry;
using static TorchSharp.torch;

namespace Vigil.Cli.Perf;

/// <summary>
/// PatchCore predict on one fitted memory bank, per test image: the whole predict, its backbone share, and the
/// nearest-neighbour step three ways — straightforward libtorch (torch.cdist(queries, bank).min(1), as a PyTorch user
/// would write it), Vigil's blocked brute force (<see cref="NearestNeighbours.Search"/>) and Vigil's exact index
/// (<see cref="NearestNeighbourIndex"/>, what PatchCore uses). Medians over the test images, wall and CPU time.
/// </summary>
public static class KnnPerf
{
    public static void Run(TextWriter output, IBackboneProvider backbone, IReadOnlyList<Sample> train, IReadOnlyList<Sample> test)
    {
        var clock = Stopwatch.StartNew();
        using var detector = (PatchCoreDetector)DetectorRegistry.Parse(PatchCoreDetector.ModelName).CreateTrainer()
            .Fit(new TrainingData(train), new TrainingContext(0, backbone));
        var bank = detector.MemoryBank!;
        output.WriteLine($"PatchCore fit on {train.Count} images: {clock.Elapsed.TotalSeconds:F1} s; memory bank {bank.shape[0]} x {bank.shape[1]}; {Environment.ProcessorCount} threads");
        var images = test.Select(s => s.LoadImage()).ToList();
        var index = NearestNeighbourIndex.Build(bank);
        var rows = new List<(string Name, Func<int, object> Run)>
        {
            ("PatchCore predict (whole)", i => detector.Predict(images[i])),
            ("  backbone only", i => { using var s = NewDisposeScope(); return detector.Extractor.Extract([images[i]]); }),
        };
        var queries = new List<Tensor>();
        foreach (var sample in test)
        {
            using var features = detector.PatchFeatures([sample]);
            queries.Add(features.DetachFromDisposeScope().clone());
        }
        rows.Add(("  kNN: straightforward libtorch cdist", i => { using var s = NewDisposeScope(); return cdist(queries[i], bank).min(1).values.sum().item<float>(); }));
        rows.Add(("  kNN: Vigil blocked brute force", i => { using var s = NewDisposeScope(); return NearestNeighbours.Search(queries[i], bank).SquaredDistances.sum().item<float>(); }));
        rows.Add(($"  kNN: Vigil exact index ({index.ScreenDimension}-d screen)", i => { using var s = NewDisposeScope(); return index.Search(queries[i]).SquaredDistances.sum().item<float>(); }));

        output.WriteLine($"{test.Count} test images, {queries[0].shape[0]} patches each; medians per image");
        output.WriteLine($"{"step",-46} {"wall ms",9} {"CPU ms",9}");
        double? cdistWall = null;
        var medians = new Dictionary<string, double>();
        foreach (var (name, run) in rows)
        {
            using (NewDisposeScope()) run(0); // warm-up
            var wall = new List<double>();
            var cpu = new List<double>();
            using var process = Process.GetCurrentProcess();
            for (int i = 0; i < images.Count; i++)
            {
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                clock.Restart();
                using (NewDisposeScope()) run(i);
                wall.Add(clock.Elapsed.TotalMilliseconds);
                process.Refresh();
                cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
            }
            double medianWall = Median(wall), medianCpu = Median(cpu);
            if (name.Contains("cdist")) cdistWall = medianWall;
            medians[name] = medianWall;
            string ratio = cdistWall is double c && !name.Contains("cdist") && name.Contains("kNN") ? $"  {medianWall / c:F2}x cdist" : "";
            output.WriteLine($"{name,-46} {medianWall,9:F1} {medianCpu,9:F1}{ratio}");
        }
        double rest = medians[rows[0].Name] - medians[rows[1].Name] - medians[rows[^1].Name];
        output.WriteLine($"{"  embedding + anomaly map (whole - backbone - index)",-46} {rest,9:F1}");
        // The same pipeline with the kNN step done the straightforward way.
        double straightforward = medians[rows[0].Name] - medians[rows[^1].Name] + cdistWall!.Value;
        output.WriteLine($"{"straightforward predict (whole - index + cdist)",-46} {straightforward,9:F1}            Vigil predict = {medians[rows[0].Name] / straightforward:F2}x");
        foreach (var q in queries) q.Dispose();
        index.Dispose();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
