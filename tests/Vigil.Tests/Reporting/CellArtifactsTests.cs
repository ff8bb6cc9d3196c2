using System.Text.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;
using Vigil.Benchmark;
using Vigil.Imaging;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Results;

namespace Vigil.Tests.Reporting;

/// <summary>
/// The artifacts a real cell writes: the right test images picked per role, overlays that show the image unchanged
/// beside the map with the ground truth outlined, and pixel curves whose areas are the cell's own metrics.
/// </summary>
[Collection(ReportRunCollection.Name)]
public class CellArtifactsTests(ReportRun run)
{
    [Fact]
    public void CurvesHaveTheCellsMetricsAsTheirAreas()
    {
        foreach (var cell in run.Cells)
        {
            Assert.NotNull(cell.Artifacts);
            var index = cell.Artifacts;
            Assert.Equal(cell.Metrics.ProFprLimit, index.ProFprLimit);
            Assert.NotNull(index.Pro);
            Assert.NotNull(index.PixelRoc);
            double auPro = CurveTests.Trapezoid(index.Pro) / index.ProFprLimit;
            Assert.True(Math.Abs(auPro - cell.Metrics.AuPro) <= 1e-3, $"{cell.Key}: curve {auPro} vs AU-PRO {cell.Metrics.AuPro}");
            double pixelAuroc = CurveTests.Trapezoid(index.PixelRoc);
            Assert.True(Math.Abs(pixelAuroc - cell.Metrics.PixelAuroc) <= 1e-3, $"{cell.Key}: curve {pixelAuroc} vs pixel AUROC {cell.Metrics.PixelAuroc}");
            Assert.InRange(index.Pro.X.Count, 3, 400);
            Assert.InRange(index.PixelRoc.X.Count, 3, 600);
        }
    }

    [Fact]
    public void PicksTheHighestAndLowestScoredAnomaliesAndTheHighestScoredGoodImages()
    {
        foreach (var outcome in run.Outcomes)
        {
            var (cell, index) = (outcome.Result, outcome.Result.Artifacts!);
            var anomalous = cell.Images.Where(i => i.Anomalous).OrderByDescending(i => i.Score).ToList();
            var good = cell.Images.Where(i => !i.Anomalous).OrderByDescending(i => i.Score).ToList();
            string[] Expected(IEnumerable<ImageOutcome> images) => images.Select(i => i.Path).ToArray();
            string[] Shown(OverlayRole role) => index.Overlays.Where(o => o.Role == role).OrderBy(o => o.Rank).Select(o => o.SourcePath).ToArray();

            Assert.Equal(Expected(anomalous.Take(3)), Shown(OverlayRole.TopAnomaly));
            Assert.Equal(Expected(Enumerable.Reverse(anomalous).Take(3)), Shown(OverlayRole.MissedAnomaly));
            Assert.Equal(Expected(good.Take(3)), Shown(OverlayRole.FalseAlarm));
            foreach (var o in index.Overlays)
            {
                var image = cell.Images.Single(i => i.Path == o.SourcePath);
                Assert.Equal((image.Anomalous, image.DefectType, image.Score), (o.Anomalous, o.DefectType, o.Score));
                Assert.True(outcome.ArtifactFiles.ContainsKey(o.File), o.File);
            }
        }
    }

    [Fact]
    public void OverlayShowsTheImageUnchangedAndTheMapHotterInsideTheOutlinedDefect()
    {
        var outcome = run.Outcomes.Single(c => c.Result.Key.Model == "patchcore");
        var index = outcome.Result.Artifacts!;
        foreach (var overlay in index.Overlays)
        {
            var sample = run.Split.Test.Single(s => s.SourcePath == overlay.SourcePath);
            var (image, mask) = sample.Load();
            using var png = Cv2.ImDecode(outcome.ArtifactFiles[overlay.File], ImreadModes.Color);
            // 64×64 images are enlarged 4× by nearest neighbour: each panel pixel is one image pixel.
            int h = CellArtifacts.OverlayHeight, w = h * image.Width / image.Height, scale = h / image.Height;
            Assert.Equal((h, 2 * w), (png.Rows, png.Cols));
            var big = new BinaryMask(h, w);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) big[y, x] = mask[y / scale, x / scale];

            int outlined = 0;
            var changed = new List<string>();
            double heatInside = 0, heatOutside = 0;
            int inside = 0, outside = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var left = png.At<Vec3b>(y, x);
                    var right = png.At<Vec3b>(y, x + w);
                    byte r = To8(image[0, y / scale, x / scale]), g = To8(image[1, y / scale, x / scale]), b = To8(image[2, y / scale, x / scale]);
                    bool nearBoundary = NearBoundary(big, y, x);
                    if (left is { Item0: 255, Item1: 255, Item2: 255 } && (r, g, b) != (255, 255, 255))
                    {
                        Assert.True(nearBoundary, $"{overlay.File}: outline at ({y},{x}) away from the mask boundary");
                        outlined++;
                    }
                    if (nearBoundary) continue;
                    if (Math.Abs(left.Item2 - r) > 1 || Math.Abs(left.Item1 - g) > 1 || Math.Abs(left.Item0 - b) > 1)
                        changed.Add($"({y},{x}) {left} vs ({b},{g},{r})");
                    // The map's colour is twice the blend minus the image; jet's red minus blue rises with the score.
                    double heat = (2.0 * right.Item2 - r) - (2.0 * right.Item0 - b);
                    if (big[y, x]) { heatInside += heat; inside++; } else { heatOutside += heat; outside++; }
                }
            Assert.True(changed.Count == 0, $"{overlay.File}: {changed.Count} image pixels changed away from the outline: {string.Join(" ", changed.Take(10))}");
            if (mask.CountDefective() > 0)
            {
                Assert.True(outlined > 0, $"{overlay.File}: no ground-truth outline drawn");
                if (overlay.Role == OverlayRole.TopAnomaly && inside > 0)
                    Assert.True(heatInside / inside > heatOutside / outside, $"{overlay.File}: the map is not hotter inside the defect");
            }
            else Assert.Equal(0, outlined);
        }
    }

    [Fact]
    public void CellJsonWithoutArtifactsStillLoads()
    {
        var json = JsonSerializer.SerializeToNode(run.Cells[0], RecordJson.Indented)!.AsObject();
        Assert.NotNull(json["Artifacts"]);
        json.Remove("Artifacts"); // as written by a cell run without artifacts
        var old = JsonSerializer.Deserialize<CellResult>(json.ToJsonString(), RecordJson.Indented)!;
        Assert.Null(old.Artifacts);
        Assert.Equal(run.Cells.Single(c => c.Key == old.Key).Images, old.Images);
    }

    [Fact]
    public void ArtifactFilesAreStoredWithTheCellInTheResultsStore()
    {
        var outcome = run.Outcomes.Single();
        using var store = ResultsStore.Open(null, run.Output);
        var stored = store.LatestCells().Single();
        Assert.Equal(outcome.Result.Spec.Hash, stored.Result.Spec.Hash);
        Assert.NotEmpty(outcome.ArtifactFiles);
        foreach (var (name, content) in outcome.ArtifactFiles) Assert.Equal(content, store.ReadArtifact(stored.CellId, name));
    }

    private static byte To8(float v) => (byte)Math.Clamp(Math.Round(v * 255), 0, 255);

    /// <summary>
    /// Within three pixels of a change between defective and good: the outline runs on boundary pixels (whose good
    /// neighbour may be diagonal) and its 3-pixel halo reaches up to two pixels further.
    /// </summary>
    private static bool NearBoundary(BinaryMask mask, int y, int x)
    {
        bool centre = mask[y, x];
        for (int dy = -3; dy <= 3; dy++)
            for (int dx = -3; dx <= 3; dx++)
            {
                int ny = y + dy, nx = x + dx;
                bool there = ny >= 0 && ny < mask.Height && nx >= 0 && nx < mask.Width && mask[ny, nx]; // outside the image is good
                if (there != centre) return true;
            }
        return false;
    }
}
