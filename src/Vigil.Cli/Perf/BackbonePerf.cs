using System.Diagnostics;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Imaging;
using Vigil.Weights;

namespace Vigil.Cli.Perf;

/// <summary>
/// Benchmark (not a test): per-image feature extraction latency of each backbone on size×size RGB images (default 256) at batch 1
/// and 8, median over repeats after warm-up, printed as a table. Random weights: timing does not depend on them.
/// Besides wall time it reports process CPU time per image (all threads), which stays meaningful when other jobs
/// share the cores.
/// </summary>
public static class BackbonePerf
{
    /// <summary>A backbone to time: its name and a factory for an extractor with the given batch size.</summary>
    public sealed record Candidate(string Name, Func<int, IFeatureExtractor> Create);

    /// <summary>
    /// The torchvision ResNets, each through ONNX Runtime and then libtorch ("_torch"), side by side so that their ratio
    /// holds under load; returning layer2 and layer3 (PatchCore's choice).
    /// </summary>
    public static IEnumerable<Candidate> ResNetCandidates(int size = 256) =>
        TorchBackbones.Names.SelectMany(name => new[] { name, name + TorchBackbones.LibTorchSuffix }).Select(name => new Candidate(name,
            batch => BackboneCatalog.Open(name, WeightSource.Random(0), ["layer2", "layer3"], new FeatureExtractorOptions { Resize = size, BatchSize = batch })));

    public static void Run(TextWriter output) => Run(output, ResNetCandidates());

    /// <summary>Times <paramref name="candidates"/>; pass e.g. TorchSharpCandidates().Append(onnxCandidate) to add more rows.</summary>
    public static void Run(TextWriter output, IEnumerable<Candidate> candidates, int size = 256, int warmups = 2, int repeats = 5)
    {
        NativeRuntime.Configure();
        int[] batchSizes = [1, 8];
        output.WriteLine($"Backbone feature extraction, {size}x{size} RGB, {torch.get_num_threads()} torch threads, {Environment.ProcessorCount} cores; median ms per image over {repeats} runs after {warmups} warm-ups (cpu: all threads)");
        output.WriteLine($"{"backbone",-24}{"layers",-16}{"b1 wall",10}{"b1 cpu",10}{"b8 wall",10}{"b8 cpu",10}");
        foreach (var candidate in candidates)
        {
            var cells = new List<string>();
            string layers = "";
            foreach (int batch in batchSizes)
            {
                using var extractor = candidate.Create(batch);
                layers = string.Join("+", extractor.Layers);
                var images = Enumerable.Range(0, batch).Select(i => NoiseImage(i, size)).ToList();
                var wall = new List<double>();
                var cpu = new List<double>();
                var process = Process.GetCurrentProcess();
                for (int r = 0; r < warmups + repeats; r++)
                {
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var watch = Stopwatch.StartNew();
                    foreach (var f in extractor.Extract(images)) f.Dispose();
                    if (r < warmups) continue;
                    wall.Add(watch.Elapsed.TotalMilliseconds / batch);
                    process.Refresh();
                    cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds / batch);
                }
                cells.Add($"{Median(wall),10:F1}{Median(cpu),10:F1}");
            }
            output.WriteLine($"{candidate.Name,-24}{layers,-16}{string.Concat(cells)}");
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static ImageTensor NoiseImage(int seed, int size)
    {
        var rng = new Random(seed);
        var image = new ImageTensor(3, size, size);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (float)rng.NextDouble();
        return image;
    }
}
