using System.Diagnostics;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Metrics;
using Vigil.Registry;
using static TorchSharp.torch;

namespace Vigil.Cli.Perf;

/// <summary>
/// PatchCore predict on one fitted memory bank, per test image: the whole predict, its backbone share, and the
/// nearest-neighbour step three ways — straightforward libtorch (torch.cdist(queries, bank).min(1), as a PyTorch user
/// would write it), Vigil's blocked brute force (<see cref="NearestNeighbours.Search"/>) and Vigil's exact index
/// (<see cref="NearestNeighbourIndex"/>, what PatchCore uses), and the approximate inverted file (<see cref="InvertedFileIndex"/>,
/// PatchCore's search=ivf) with its recall and image AUROC against the exact search. Medians over the test images, wall and CPU time.
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
        string exactRow = $"  kNN: Vigil exact index (timed choice)";
        rows.Add((exactRow, i => { using var s = NewDisposeScope(); return index.Search(queries[i]).SquaredDistances.sum().item<float>(); }));
        // Each screen on its own, to show what the timed choice chose between.
        using var screened = NearestNeighbourIndex.Build(bank, screen: NearestNeighbourScreen.PrincipalAxes);
        using var halfScreened = NearestNeighbourIndex.Build(bank, screen: NearestNeighbourScreen.PrincipalAxesBFloat16);
        using var product = NearestNeighbourIndex.Build(bank, screen: NearestNeighbourScreen.FullProduct);
        rows.Add(($"    only the {screened.ScreenDimension}-d principal-axes screen", i => { using var s = NewDisposeScope(); return screened.Search(queries[i]).SquaredDistances.sum().item<float>(); }));
        rows.Add(("    only that screen in bfloat16", i => { using var s = NewDisposeScope(); return halfScreened.Search(queries[i]).SquaredDistances.sum().item<float>(); }));
        rows.Add(("    only the full-product screen", i => { using var s = NewDisposeScope(); return product.Search(queries[i]).SquaredDistances.sum().item<float>(); }));
        clock.Restart();
        using var inverted = InvertedFileIndex.Build(bank, InvertedFileIndex.DefaultLists(bank.shape[0]), probes: 1, seed: 0);
        double invertedBuild = clock.Elapsed.TotalSeconds;
        foreach (int probes in ApproximateProbes)
            rows.Add(($"  kNN: IVF, {probes} of {inverted.Lists} lists probed", i => { using var s = NewDisposeScope(); return inverted.Search(queries[i], probes).SquaredDistances.sum().item<float>(); }));

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
        double rest = medians[rows[0].Name] - medians[rows[1].Name] - medians[exactRow];
        output.WriteLine($"{"  embedding + anomaly map (whole - backbone - index)",-46} {rest,9:F1}");
        // The same pipeline with the kNN step done the straightforward way.
        double straightforward = medians[rows[0].Name] - medians[exactRow] + cdistWall!.Value;
        output.WriteLine($"{"straightforward predict (whole - index + cdist)",-46} {straightforward,9:F1}            Vigil predict = {medians[rows[0].Name] / straightforward:F2}x");
        output.WriteLine($"The exact index chose the {index.ScreenInUse} screen.");
        ApproximateQuality(output, index, inverted, invertedBuild, queries, test.Select(s => s.IsAnomalous).ToList());
        foreach (var q in queries) q.Dispose();
        index.Dispose();
    }

    /// <summary>Lists probed in the approximate rows (PatchCore's ivf_probes; 8 by default).</summary>
    private static readonly int[] ApproximateProbes = [1, 4, 8, 32];

    /// <summary>
    /// What the inverted file loses against the exact index on the same patches: recall@1 (share of patches whose nearest
    /// bank row is the exact one), the mean relative excess of the distance found, and the image AUROC of the
    /// largest patch distance per image (PatchCore's image score without re-weighting) with each search.
    /// </summary>
    private static void ApproximateQuality(TextWriter output, NearestNeighbourIndex exact, InvertedFileIndex inverted, double buildSeconds, List<Tensor> queries, List<bool> anomalous)
    {
        var truth = queries.Select(q => exact.Search(q)).ToList();
        bool bothClasses = anomalous.Distinct().Count() == 2;
        double Auroc(IEnumerable<(Tensor SquaredDistances, Tensor Indices)> found) =>
            bothClasses ? ImageScores.Auroc(found.Select(f => f.SquaredDistances.max().item<float>()).ToList(), anomalous) : double.NaN;
        output.WriteLine($"IVF (PatchCore search=ivf): {inverted.Lists} lists, k-means {buildSeconds:F1} s; image AUROC of the largest patch distance, exact search: {Auroc(truth):F4}" +
            (bothClasses ? "" : " (the timed test images are of one class: give more with --test)"));
        output.WriteLine($"{"probes",8} {"recall@1",10} {"distance excess",16} {"image AUROC",12}");
        foreach (int probes in ApproximateProbes)
        {
            var found = queries.Select(q => inverted.Search(q, probes)).ToList();
            double recall = found.Zip(truth).Average(p => p.First.Indices.eq(p.Second.Indices).to_type(ScalarType.Float64).mean().item<double>());
            double excess = found.Zip(truth).Average(p => (p.First.SquaredDistances.sqrt() / p.Second.SquaredDistances.sqrt().clamp_min(1e-12) - 1).to_type(ScalarType.Float64).mean().item<double>());
            output.WriteLine($"{probes,8} {recall,10:F4} {excess,15:P2} {Auroc(found),12:F4}");
            foreach (var (d, i) in found) { d.Dispose(); i.Dispose(); }
        }
        foreach (var (d, i) in truth) { d.Dispose(); i.Dispose(); }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
