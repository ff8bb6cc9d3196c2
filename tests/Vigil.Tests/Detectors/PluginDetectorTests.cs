using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Cli;
using Vigil.ToyDetector;

namespace Vigil.Tests.Detectors;

/// <summary>
/// A detector added from outside Vigil by registration alone (the toy in tests/Vigil.ToyDetector, loaded as a plugin):
/// it passes the detector contract, and the real `vigil` lists it, benchmarks it, trains, saves, loads and predicts
/// with it, with no edit to Vigil.
/// </summary>
public class PluginDetectorTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    private static readonly string Plugin = typeof(MeanImageModule).Assembly.Location;

    private static readonly Lazy<ModelSpec> Toy = new(() =>
    {
        Assert.Equal(["meanimage"], DetectorPlugins.Load(Plugin));
        return DetectorRegistry.Parse("meanimage:size=24");
    });

    [Fact]
    public void ThePluginDetectorPassesTheDetectorContract()
    {
        var model = Toy.Value;
        DetectorContractTests.Check.Separates(model, fixture.Data);
        DetectorContractTests.Check.SavesAndLoads(model, fixture.Data);
        DetectorContractTests.Check.Deterministic(model, fixture.Data);
        DetectorContractTests.Check.RefusesBadInput(model, fixture.Data);
        DetectorContractTests.Check.StopsWhenCancelled(model, fixture.Data);
        DetectorContractTests.Check.Continual(model, fixture.Data); // it declares no continual learning: its trainer must not offer it
        Assert.Equal("meanimage:size=24", model.Label);
    }

    [Fact]
    public void TheRealCliListsBenchmarksTrainsAndPredictsWithIt()
    {
        using var data = new TinySynthetic(trainCount: 6, testGoodCount: 3, perDefectCount: 1);
        var work = data.Scratch("plugin");
        var environment = new Dictionary<string, string> { [DetectorPlugins.Variable] = Plugin };

        var models = VigilProcess.Run(work, environment, "models", "meanimage");
        Assert.True(models.ExitCode == 0, models.ToString());
        Assert.Contains("Absolute difference to the mean training image", models.Stdout);
        Assert.Contains("size", models.Stdout);
        Assert.Contains("meanimage", VigilProcess.Run(work, environment, "bench", "--help").Stdout);
        Assert.DoesNotContain("meanimage", VigilProcess.Run(work, "bench", "--help").Stdout); // only with the plugin

        var output = Path.Combine(work, "bench");
        var bench = VigilProcess.Run(work, environment, "bench", "-m", "meanimage:size=16,patchcore", "-d", $"synthetic:{data.Root}", "-o", output);
        Assert.True(bench.ExitCode == 0, bench.ToString());
        var rows = File.ReadAllLines(Path.Combine(output, "results.csv")).Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(["meanimage:size=16", "patchcore"], rows);

        var model = Path.Combine(work, "toy.vgl");
        var train = VigilProcess.Run(work, environment, "train", "-m", "meanimage", "-d", $"synthetic:{data.Root}", "-o", model, "--validation-ratio", "0");
        Assert.True(train.ExitCode == 0, train.ToString());
        var predict = VigilProcess.Run(work, environment, "predict", "-f", model, Path.Combine(data.Root, TinySynthetic.Category, "test", "good"), "-o", Path.Combine(work, "maps"));
        Assert.True(predict.ExitCode == 0, predict.ToString());
        Assert.Contains("images scored", predict.Stdout);

        // Without the plugin the model file names a detector this Vigil does not know: a clear error naming the file.
        var without = VigilProcess.Run(work, "predict", "-f", model, Path.Combine(data.Root, TinySynthetic.Category, "test", "good"));
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("holds model 'meanimage', which this Vigil does not know", without.Stderr);
        Assert.Contains(model, without.Stderr);
    }
}
