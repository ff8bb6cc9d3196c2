using System.Text.Json;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>`--tile` as a user gives it: `vigil train` saves a tiled model that `vigil predict` runs on tiles; bad tile options are named.</summary>
public class TilingCommandTests
{
    [Fact]
    public void TrainedTiledModelKeepsItsTilingAndPredictsMapsAtTheImagesSize()
    {
        using var data = new TinySynthetic(trainCount: 6, testGoodCount: 1, perDefectCount: 1);
        var work = data.Scratch("work");
        var model = Path.Combine(work, "tiled.vgl");
        var train = VigilProcess.Run(work, "train", "-m", "padim:dims=20", "-d", $"synthetic:{data.Root}", "-c", TinySynthetic.Category,
            "--tile", "32", "--tile-stride", "24", "-o", model);
        Assert.True(train.ExitCode == 0, train.ToString());

        string json;
        using (var archive = ModelArchive.Open(model)) json = archive.Manifest.ToJsonString();
        using var manifest = JsonDocument.Parse(json);
        Assert.Equal("""{"size":32,"stride":24,"score":"max-map"}""", manifest.RootElement.GetProperty("tiling").GetRawText());
        // 64 × 64 images in tiles of 32 every 24 pixels: starts 0, 24 and 32 (flush with the edge) on each axis, 9 tiles.
        int trainImages = manifest.RootElement.GetProperty("provenance").GetProperty("TrainImages").GetArrayLength();
        Assert.Contains($"tile=32/24: fitted on {9 * trainImages} tiles of {trainImages} training images (9 per image)", train.Stdout.ReplaceLineEndings(""));

        var image = data.Load().Test.First(s => s.IsAnomalous).SourcePath;
        var predictions = Path.Combine(work, "predictions");
        var predict = VigilProcess.Run(work, "predict", "-f", model, image, "-o", predictions);
        Assert.True(predict.ExitCode == 0, predict.ToString());
        var row = File.ReadAllLines(Path.Combine(predictions, "predictions.csv"))[1].Split(',');
        var (source, overlay) = (ImageIO.ReadRgb(row[0]), ImageIO.ReadRgb(row[5]));
        Assert.Equal((source.Height, source.Width), (overlay.Height, overlay.Width));
    }

    [Theory]
    [InlineData("--tile-stride 24", "add --tile N")]
    [InlineData("--tile-score max-tile", "add --tile N")]
    [InlineData("--tile 16", "at least 32")]
    [InlineData("--tile 64 --tile-stride 65", "between 1 and the tile size 64")]
    [InlineData("--tile 64 --protocol reference", "use one of them")]
    public void BadTilingIsAnInputError(string options, string message)
    {
        using var data = new TinySynthetic(trainCount: 2, testGoodCount: 1, perDefectCount: 1);
        var work = data.Scratch("work");
        var run = VigilProcess.Run(work, ["bench", "-m", "padim", "-d", $"synthetic:{data.Root}", "-o", work, .. options.Split(' ')]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
    }
}
