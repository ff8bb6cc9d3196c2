using System.Globalization;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Benchmark;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Results;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Data;

namespace Vigil.Tests.Cli;

/// <summary>`vigil bench` as a user runs it: results.csv with one row per cell, and a repeated run reuses the finished cells.</summary>
public class BenchCommandTests
{
    private const string Header =
        "model,dataset,category,setting,seed,backbone,random_weights,train,test,image_auroc,image_ap,image_f1_max,pixel_auroc,pixel_ap," +
        "pixel_f1_max,au_pro,pro_fpr_limit,resolution,fit_s,latency_median_ms,latency_p95_ms,throughput_images_per_s,throughput_batch," +
        "peak_working_set_bytes,state_bytes,model_file_bytes,spec_hash,not_applicable";

    [Fact]
    public void WritesOneCsvRowPerCellAndARepeatedRunKeepsTheFinishedCells()
    {
        SharedData.RequireDirectory("weights");
        using var data = new TinySynthetic(trainCount: 6, testGoodCount: 3, perDefectCount: 1);
        var manifest = File.ReadAllText(Path.Combine(data.Root, SyntheticDataset.ManifestFileName));
        var output = data.Scratch("out");
        // synthetic:<root> must open the finished generated tree as it is, not regenerate it with default options.
        string[] args = ["bench", "-d", $"synthetic:{data.Root}", "-c", TinySynthetic.Category, "-m", "patchcore", "--seeds", "0,1", "-o", output];

        var first = VigilProcess.Run(output, args);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(manifest, File.ReadAllText(Path.Combine(data.Root, SyntheticDataset.ManifestFileName))); // the tree was read, not rewritten

        var csvPath = Path.Combine(output, "results.csv");
        var lines = File.ReadAllLines(csvPath);
        Assert.Equal(Header, lines[0]);
        Assert.Equal(3, lines.Length); // header + (patchcore × synthetic × wood × seeds 0, 1)
        int testCount = 3 + data.DefectTypeCount;
        for (int seed = 0; seed < 2; seed++)
        {
            var row = lines[1 + seed].Split(',');
            Assert.Equal(Header.Split(',').Length, row.Length);
            Assert.Equal(["patchcore", "synthetic", TinySynthetic.Category, "unsupervised", $"{seed}", "resnet18_imagenet", "False", "6", $"{testCount}"], row[..9]);
            Assert.InRange(double.Parse(row[9], CultureInfo.InvariantCulture), 0, 1); // image AUROC
            Assert.InRange(double.Parse(row[12], CultureInfo.InvariantCulture), 0, 1); // pixel AUROC
            Assert.True(double.Parse(row[19], CultureInfo.InvariantCulture) > 0); // latency
            Assert.Equal("", row[^1]); // a cell that ran: no "not applicable" reason
        }

        using (var store = ResultsStore.Open(null, output))
        {
            var run = Assert.Single(store.Runs());
            Assert.Equal(RunStatus.Finished, run.Status);
            Assert.Equal(VigilBuild.Version, run.VigilVersion);
            Assert.Equal(ResNet18ImageNet.Sha256, run.WeightsSha256); // the default backbone's weight file
            using var configuration = System.Text.Json.JsonDocument.Parse(run.Configuration);
            Assert.Equal("bench", configuration.RootElement.GetProperty("command").GetString());
            Assert.Equal(["patchcore"], configuration.RootElement.GetProperty("models").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(2, store.Cells(run.Id).Count);
        }
        var csvBefore = File.ReadAllText(csvPath);

        var second = VigilProcess.Run(output, args);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(2, VigilProcess.CountOf(second.Stdout, "finished earlier"));
        using (var store = ResultsStore.Open(null, output))
        {
            Assert.Equal(2, store.Runs().Count);
            Assert.Empty(store.Cells(store.Runs()[1].Id)); // nothing recomputed
        }
        Assert.Equal(csvBefore, File.ReadAllText(csvPath)); // the same numbers, from the kept cells
    }

    [Fact]
    public void ContinualSettingLearnsTheCategoriesInOrderAndReportsTheMatrix()
    {
        SharedData.RequireDirectory("weights");
        using var temp = new TempTree();
        var root = SyntheticDataset.Generate(temp.Path("synthetic"), new SyntheticOptions
        {
            ImageSize = 64, TrainGoodCount = 4, TestGoodCount = 2, TestDefectCount = 1, Seed = 2, Categories = ["wood", "tile"],
        });
        var output = temp.Folder("out");
        var run = VigilProcess.Run(output, "bench", "-d", $"synthetic:{root}", "-m", "padim", "-s", "unsupervised", "-s", "continual:tasks=tile+wood", "-o", output);
        Assert.True(run.ExitCode == 0, run.ToString());

        ContinualResult result;
        using (var store = ResultsStore.Open(null, output)) result = Assert.Single(store.LatestContinual());
        Assert.Equal(["tile", "wood"], result.Tasks);
        var matrix = result.ImageAuroc.Matrix;
        Assert.True(double.IsNaN(matrix[0][1]));
        Assert.All(new[] { matrix[0][0], matrix[1][0], matrix[1][1] }, v => Assert.InRange(v, 0, 1));
        // Forgetting on tile: its best earlier score minus its final one (one earlier step here).
        Assert.Equal(matrix[0][0] - matrix[1][0], result.ImageAuroc.Forgetting!.Mean, 12);
        Assert.Contains("forgetting measure", run.Stdout);
        Assert.Contains("continual over tile → wood", File.ReadAllText(Path.Combine(output, "report", "report.html")));

        var again = VigilProcess.Run(output, "bench", "-d", $"synthetic:{root}", "-m", "padim", "-s", "unsupervised", "-s", "continual:tasks=tile+wood", "-o", output);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("padim continual seed 0: finished earlier, kept", again.Stdout);
    }

    [Fact]
    public void HelpListsTheModelsAndBackbones()
    {
        var run = VigilProcess.Run(AppContext.BaseDirectory, "bench", "--help");
        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var model in DetectorRegistry.BuiltIn) Assert.Contains(model.Info.Name, run.Stdout);
        foreach (var backbone in BackboneCatalog.Names) Assert.Contains(backbone, run.Stdout);
    }
}
