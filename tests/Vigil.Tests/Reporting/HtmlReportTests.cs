using System.Text.RegularExpressions;
using Vigil.Benchmark;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Results;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Data;

namespace Vigil.Tests.Reporting;

/// <summary>Report pages from hand-made cells: table numbers worked out by hand, escaped text, notes instead of crashes.</summary>
public class HtmlReportTests
{
    /// <summary>
    /// Writes the report of <paramref name="cells"/> as `vigil report` does: saved (with their artifact files) in a new
    /// SQLite store under <paramref name="folder"/>, then read back. Returns the page's path.
    /// </summary>
    internal static string WriteReport(string folder, IEnumerable<CellResult> cells, IReadOnlyDictionary<string, byte[]>? files = null)
    {
        using var store = ResultsStore.Open(null, folder);
        long run = store.BeginRun(RunRecord.StartingNow("report tests", "{}", "mobilenetv2_int8_onnx", null));
        foreach (var cell in cells) store.SaveCell(run, cell, files);
        return HtmlReport.Write(Path.Combine(folder, "report"), store);
    }

    private static CellResult Cell(string model, string category, int seed, double imageAuroc, double pixelAuroc,
        double latencyMs = 10, long peakBytes = 512L << 20, CellArtifactIndex? artifacts = null) => new(
        TestSpecs.Cell(model: model, category: category, seed: seed, backbone: "mobilenetv2_int8_onnx", weights: "pretrained"), false, 10, 4,
        new EvaluationResult(imageAuroc, 0.5 + seed, new F1Max(0.25, 1f), pixelAuroc, 0.3, new F1Max(0.2, 1f), pixelAuroc / 2, 0.3,
            EvaluationResolution.GroundTruth, []),
        new Efficiency(2.0 + seed, latencyMs, latencyMs * 2, peakBytes, 1000, 1000 / latencyMs, 1, 2000),
        [
            new ImageOutcome("/d/good/0.png", false, "good", 0.1f), new ImageOutcome("/d/good/1.png", false, "good", 0.7f),
            new ImageOutcome("/d/crack/0.png", true, "crack", 0.9f), new ImageOutcome("/d/crack/1.png", true, "crack", 0.5f),
        ],
        [], artifacts);

    [Fact]
    public void ResultsOfDifferentBackbonesAreNeverAveragedTogether()
    {
        var onResnet = Cell("padim", "a", 0, 0.8, 0.5);
        onResnet = onResnet with { Spec = onResnet.Spec with { Backbone = "resnet18" } };
        var tables = MetricTable.Build([Cell("padim", "a", 0, 0.6, 0.5), onResnet]);
        Assert.Equal(["padim (mobilenetv2_int8_onnx)", "padim (resnet18)"], tables.Select(t => t.Model));
        Assert.Equal([0.6, 0.8], tables.Select(t => t.Mean.ImageAuroc));
        using var temp = new TempTree();
        Assert.Contains("padim (resnet18) on synthetic", File.ReadAllText(WriteReport(temp.Root, [Cell("padim", "a", 0, 0.6, 0.5), onResnet])));
    }

    [Fact]
    public void TableAveragesSeedsPerCategoryThenCategoriesAndFlagsPartlyUndefinedMeans()
    {
        var tables = MetricTable.Build(
        [
            Cell("patchcore", "b", 0, 0.6, double.NaN),
            Cell("patchcore", "a", 0, 0.8, 0.9),
            Cell("patchcore", "a", 1, 0.9, 0.7),
            Cell("padim", "a", 0, 0.5, 0.5),
        ]);
        Assert.Equal(["padim", "patchcore"], tables.Select(t => t.Model)); // same dataset and setting: by model
        var t = tables[1];
        Assert.Equal(["a", "b"], t.Categories.Select(r => r.Label));
        var a = t.Categories[0];
        Assert.Equal(2, a.Cells);
        Assert.Equal(0.85, a.ImageAuroc, 12);
        Assert.Equal(0.8, a.PixelAuroc, 12);
        Assert.Equal(1.0, a.ImageAveragePrecision, 12); // (0.5 + 1.5) / 2
        Assert.Equal(2.5, a.FitSeconds, 12);
        Assert.Empty(a.Partial);
        Assert.True(double.IsNaN(t.Categories[1].PixelAuroc));

        Assert.Equal(3, t.Mean.Cells);
        Assert.Equal((0.85 + 0.6) / 2, t.Mean.ImageAuroc, 12);
        Assert.Equal(0.8, t.Mean.PixelAuroc, 12); // b's is undefined: the mean of the others, flagged
        Assert.Equal(0.4, t.Mean.AuPro, 12);
        Assert.Equal(new HashSet<string> { nameof(MetricRow.PixelAuroc), nameof(MetricRow.AuPro) }, t.Mean.Partial);
        Assert.Equal(512, t.Mean.PeakMiB, 12);
        Assert.Equal(10, t.Mean.LatencyMedianMs, 12);
        Assert.Equal(20, t.Mean.LatencyP95Ms, 12);

        using var temp = new TempTree();
        var html = File.ReadAllText(WriteReport(temp.Root, [Cell("patchcore", "b", 0, 0.6, double.NaN), Cell("patchcore", "a", 0, 0.8, 0.9), Cell("patchcore", "a", 1, 0.9, 0.7)]));
        Assert.Contains("<td>0.725</td>", html); // mean image AUROC
        Assert.Contains("<td>0.800*</td>", html); // mean pixel AUROC, partial
        Assert.Contains("<td>n/a</td>", html); // b's pixel AUROC
    }

    [Fact]
    public void TextFromTheDataIsEscaped()
    {
        const string hostile = "<img src=x onerror=alert(1)>&\"'";
        using var temp = new TempTree();
        var html = File.ReadAllText(WriteReport(temp.Root, [Cell("patchcore", hostile, 0, 0.8, 0.9), Cell(hostile, "a", 0, 0.7, 0.6)]));
        Assert.DoesNotContain("<img src=x", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;", html);
        Assert.Equal(Regex.Matches(html, "<img ").Count, Regex.Matches(html, "<img src=\"(plots|overlays)/").Count);
    }

    [Fact]
    public void CellsWithoutArtifactsGetANoteAndEveryImageTheReportNamesExists()
    {
        using var temp = new TempTree();
        // An index that names an overlay the store does not hold (e.g. a store edited by hand).
        var lost = new CellArtifactIndex(0.3, null, null, 0, 1, [new OverlayImage("overlays/top-anomaly-1.png", OverlayRole.TopAnomaly, 1, "/d/crack/0.png", "crack", true, 0.9f)]);
        var page = WriteReport(temp.Root,
        [
            Cell("patchcore", "old", 0, 0.8, 0.9),
            Cell("patchcore", "lost", 0, 0.7, 0.6, artifacts: lost),
            Cell("padim", "old", 0, 0.9, 0.8, latencyMs: 30, peakBytes: 2048L << 20),
        ]);
        var html = File.ReadAllText(page);
        Assert.Equal(2, Regex.Matches(html, "No artifacts \\(overlays, pixel curves\\) for this cell").Count);
        Assert.Contains("overlay overlays/top-anomaly-1.png is missing from the results store", html);
        Assert.Contains("No pixel ROC curve", html);
        Assert.Contains("No PRO (pixel) curve", html);

        var sources = Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        // bubbles + per table: image ROC and PR (no pixel curves without artifacts)
        Assert.Equal(["plots/bubbles-1.png", "plots/t1-image-roc.png", "plots/t1-image-pr.png", "plots/t2-image-roc.png", "plots/t2-image-pr.png"], sources);
        Assert.All(sources, s => Assert.True(new FileInfo(Path.Combine(temp.Path("report"), s)).Length > 1000, s));
    }

    [Fact]
    public void NoCellsIsAnInputError()
    {
        using var temp = new TempTree();
        var e = Assert.Throws<VigilInputException>(() => WriteReport(temp.Root, []));
        Assert.Contains("vigil bench", e.Message);
    }
}
