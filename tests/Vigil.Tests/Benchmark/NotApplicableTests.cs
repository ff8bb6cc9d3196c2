using Vigil.Backbones;
using Vigil.Data.Synthetic;
using Vigil.Registry;
using Vigil.Results;
using Vigil.Settings;
using Vigil.Tests.Data;
using Vigil.UseCases;

namespace Vigil.Tests.Benchmark;

/// <summary>
/// A grid pairing a model with a setting it cannot run (a supervised model without labelled anomalies, a model without
/// FitMore in the continual setting) records that pair as "not applicable" — in the outcome, the store, results.csv
/// and the report — and runs the rest; a grid where nothing can run is refused before any work.
/// </summary>
public sealed class NotApplicableTests : IDisposable
{
    private readonly TempTree _temp = new();
    private readonly string _data;

    public NotApplicableTests() => _data = SyntheticDataset.Generate(_temp.Path("synthetic"), new SyntheticOptions
    {
        ImageSize = 64, TrainGoodCount = 8, TestGoodCount = 3, TestDefectCount = 2, Seed = 3, Categories = ["wood", "tile"],
    });

    [Fact]
    public void ASupervisedModelInAnUnsupervisedGridIsANotApplicableRowAndTheOtherModelsRun()
    {
        var output = _temp.Folder("out");
        const string padimLabel = "padim:dims=20";
        var outcome = RunBenchmark.Run(Request(["devnet", padimLabel], output, continual: true), new SilentDisplay());

        var devnet = outcome.Cells.Where(c => c.Key.Model == "devnet").ToList();
        // One row per category in the unsupervised setting, one for the continual run over both.
        Assert.Equal(["continual", "unsupervised", "unsupervised"], devnet.Select(c => c.Key.Setting).Order());
        foreach (var cell in devnet)
        {
            Assert.NotNull(cell.NotApplicable);
            Assert.Contains("'devnet'", cell.NotApplicable);
            Assert.True(double.IsNaN(cell.Metrics.ImageAuroc));
            Assert.Empty(cell.Images);
        }
        Assert.Contains("labelled anomalies", devnet.First(c => c.Key.Setting == "unsupervised").NotApplicable);
        Assert.Contains("task after task", devnet.Single(c => c.Key.Setting == "continual").NotApplicable);

        var padim = outcome.Cells.Where(c => c.Key.Model == padimLabel).ToList();
        Assert.Equal(2, padim.Count);
        Assert.All(padim, c => { Assert.Null(c.NotApplicable); Assert.True(double.IsFinite(c.Metrics.ImageAuroc)); });
        Assert.Equal(padimLabel, Assert.Single(outcome.Continual).Model);

        using (var store = ResultsStore.Open(null, output))
        {
            var stored = store.LatestCells().Select(c => c.Result).Where(c => c.Key.Model == "devnet").ToList();
            Assert.Equal(3, stored.Count);
            Assert.All(stored, c => Assert.Equal(devnet.Single(d => d.Spec.Hash == c.Spec.Hash).NotApplicable, c.NotApplicable));
        }

        var csv = File.ReadAllLines(outcome.CsvPath);
        Assert.EndsWith("not_applicable", csv[0]);
        Assert.Equal(3, csv.Count(line => line.StartsWith("devnet,") && line.Contains("not applicable")));
        Assert.Equal(2, csv.Count(line => line.StartsWith(padimLabel + ",") && line.EndsWith(",")));

        var report = File.ReadAllText(outcome.ReportPath);
        var section = report[report.IndexOf("<h2>Not applicable</h2>", StringComparison.Ordinal)..];
        Assert.Contains("devnet", section[..section.IndexOf("</section>", StringComparison.Ordinal)]);
        Assert.DoesNotContain("devnet on", report); // no metric table for it
    }

    [Fact]
    public void AGridWhereNothingCanRunIsRefusedBeforeAnyWork()
    {
        var output = _temp.Path("refused");
        var error = Assert.Throws<VigilInputException>(() => RunBenchmark.Run(Request(["devnet"], output, continual: false), new SilentDisplay()));
        Assert.Contains("Nothing in this grid can run", error.Message);
        Assert.Contains("'devnet'", error.Message);
        Assert.Contains("unsupervised", error.Message);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    private BenchmarkRequest Request(IReadOnlyList<string> models, string output, bool continual) => new()
    {
        Models = [.. models.Select(DetectorRegistry.Parse)],
        Backbone = new BackboneChoice("resnet18_imagenet", Vigil.Weights.WeightSource.Pretrained),
        Datasets = [$"synthetic:{_data}"],
        Settings = [new Unsupervised()],
        Continual = continual ? new ContinualSetting([]) : null,
        OutputDirectory = output,
        Run = RunDescription.Library("test", "{}"),
    };

    public void Dispose() => _temp.Dispose();
}
