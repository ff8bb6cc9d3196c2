using OpenCvSharp;

namespace Vigil.Tests.Cli;

/// <summary>
/// `vigil predict` writes heat maps and overlays with a longer side of at most 1024 pixels unless asked for full size
/// (issue 12, defect 4: a 10000 × 10000 image wrote a full-size heat map and a 134 MB overlay).
/// </summary>
[Collection(TinyRunCollection.Name)]
public class MapSizeTests(TinyRun run)
{
    [Fact]
    public void MapsOfALargeImageAreBoundedUnlessFullSizeIsAsked()
    {
        var work = run.Data.Scratch("map-size");
        var image = Path.Combine(work, "wide.png");
        using (var mat = new Mat(1500, 2000, MatType.CV_8UC3, Scalar.All(100))) Cv2.ImWrite(image, mat);

        // 2000 × 1500 → the longer side 1024, the other 1500 · 1024 / 2000 = 768.
        var bounded = VigilProcess.Run(work, "predict", "-f", run.Model, image, "-o", Path.Combine(work, "bounded"));
        Assert.True(bounded.ExitCode == 0, bounded.ToString());
        foreach (var map in new[] { "wide_heatmap.png", "wide_overlay.png" })
            Assert.Equal((768, 1024), SizeOf(Path.Combine(work, "bounded", map)));

        var full = VigilProcess.Run(work, "predict", "-f", run.Model, image, "-o", Path.Combine(work, "full"), "--full-size-maps");
        Assert.True(full.ExitCode == 0, full.ToString());
        foreach (var map in new[] { "wide_heatmap.png", "wide_overlay.png" })
            Assert.Equal((1500, 2000), SizeOf(Path.Combine(work, "full", map)));
    }

    private static (int Height, int Width) SizeOf(string png)
    {
        using var mat = Cv2.ImRead(png, ImreadModes.Unchanged);
        return (mat.Rows, mat.Cols);
    }
}
