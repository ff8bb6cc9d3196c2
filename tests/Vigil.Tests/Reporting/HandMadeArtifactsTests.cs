using OpenCvSharp;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Cli;
using Vigil.Tests.Data;

namespace Vigil.Tests.Reporting;

/// <summary>Artifacts and reports of cells the data cannot fully define (no defective pixel, one anomaly), and `vigil report` without cells.</summary>
public class HandMadeArtifactsTests
{
    [Fact]
    public void ImageLevelLabelsOnlyGiveOverlaysButNoPixelCurvesAndTheReportSaysSo()
    {
        using var temp = new TempTree();
        // Two good images and one anomalous image without a mask (image-level annotation), 300×200: scaled down to 256 high.
        var test = new List<Sample>();
        foreach (var (name, label) in new[] { ("good/0.png", SampleLabel.Normal), ("good/1.png", SampleLabel.Normal), ("bad/0.png", SampleLabel.Anomalous) })
            test.Add(new Sample(temp.Image(name, height: 300, width: 200, value: 90), label, label == SampleLabel.Normal ? "good" : "bad", "hand", "c"));
        float[] scores = [0.2f, 0.7f, 0.5f];
        var maps = scores.Select(s => new ScoreMap(30, 20, Enumerable.Repeat(s, 600).ToArray())).ToArray();
        var masks = test.Select(_ => BinaryMask.Empty(300, 200)).ToArray();
        var metrics = Evaluation.Run(scores, test.Select(s => s.IsAnomalous).ToArray(), maps, masks, null, out var pixels);

        var thumbnails = test.Select(s => CellArtifacts.Thumbnail(s.LoadImage())).ToArray();
        var (index, files) = CellArtifacts.Create(test, scores, maps, masks, thumbnails, pixels, metrics.ProFprLimit);
        Assert.Null(index.PixelRoc);
        Assert.Null(index.Pro);
        Assert.Equal((0.2f, 0.7f), (index.MapMin, index.MapMax));
        // The one anomaly is the top one, so no missed anomaly; good images by score, highest first.
        Assert.Equal([(OverlayRole.TopAnomaly, test[2].SourcePath), (OverlayRole.FalseAlarm, test[1].SourcePath), (OverlayRole.FalseAlarm, test[0].SourcePath)],
            index.Overlays.Select(o => (o.Role, o.SourcePath)));
        using (var png = Cv2.ImDecode(files[index.Overlays[0].File], ImreadModes.Color))
            Assert.Equal((256, 2 * 171), (png.Rows, png.Cols)); // 200 · 256 / 300 = 170.7
        Assert.Equal(index.Overlays.Select(o => o.File).Order(), files.Keys.Order());

        var cell = new CellResult(TestSpecs.Cell(dataset: "hand", category: "c"), false, 5, 3, metrics,
            new Efficiency(1, 2, 3, 1 << 20, 4, 10, 1, 5), test.Select((s, i) => new ImageOutcome(s.SourcePath, s.IsAnomalous, s.DefectType, scores[i])).ToList(),
            [], index);
        var html = File.ReadAllText(HtmlReportTests.WriteReport(temp.Root, [cell], files));
        Assert.Contains("No pixel ROC curve", html);
        Assert.Contains("No mask has a defective pixel", html); // the evaluation's warning
        Assert.Contains("overlays/cell-1/top-anomaly-1.png", html);
        Assert.True(File.Exists(Path.Combine(temp.Path("report"), "overlays", "cell-1", "false-alarm-2.png")));
        Assert.Contains("bad/0.png", html);
    }

    [Fact]
    public void ReportWithoutCellsSaysToRunBench()
    {
        using var temp = new TempTree();
        var outcome = VigilProcess.Run(temp.Root, "report", "--out", temp.Path("empty"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("holds no results store", outcome.Stderr);
        Assert.Contains("vigil bench", outcome.Stderr);
        Assert.False(Directory.Exists(temp.Path("empty")), "report created the folder it was asked to read");
    }
}
