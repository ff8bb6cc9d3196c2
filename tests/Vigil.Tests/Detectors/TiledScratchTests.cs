using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Registry;
using Xunit.Abstractions;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Why tiling exists: a 3-pixel scratch on a 2048 × 2048 image. The network sees 256 × 256 pixels; the whole image
/// shrunk to that size keeps a fraction of a pixel of the scratch, and the model misses it. Tiles of 256 at full
/// resolution keep all 3 pixels, and the same model finds it.
/// </summary>
public sealed class TiledScratchTests(ITestOutputHelper output) : IDisposable
{
    private const int Size = 2048, TrainCount = 3, CleanTestCount = 2;
    // The scratch: rows 1101–1103, columns 900–1059 (3 × 160 pixels), inside one tile away from tile borders.
    private const int ScratchTop = 1101, ScratchLeft = 900, ScratchWidth = 3, ScratchLength = 160;
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-scratch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A defect-free 2048 × 2048 wood texture of the synthetic generator.</summary>
    private static ImageTensor Wood(ulong seed) => SyntheticDataset.Render("wood", Size, seed).Image;

    [Fact]
    public void TiledModelFindsAThinScratchTheUntiledModelMisses()
    {
        var train = Enumerable.Range(0, TrainCount).Select(i =>
        {
            var path = Path.Combine(_folder, $"train_{i}.png");
            ImageIO.Write(Wood((ulong)i), path);
            return new Sample(path, SampleLabel.Normal, "good", "synthetic", "wood");
        }).ToList();
        var clean = Enumerable.Range(0, CleanTestCount).Select(i => Wood((ulong)(100 + i))).ToList();
        var (scratched, mask) = Scratch(Wood(200));

        // The same model and backbone (network input 256 × 256), once on whole images, once on 256-pixel tiles.
        var backbone = new TestBackbone(() => new RandomConvFeatureExtractor(preprocessing: new Preprocessing(256, 256)));
        var model = DetectorRegistry.Parse("padim:dims=20");
        var results = new Dictionary<string, (bool Found, float Margin, double Distance, double PixelAuroc)>();
        foreach (var (name, spec) in new[] { ("untiled", model), ("tiled", model with { Tiling = new Tiling(256, 224) }) })
        {
            using var detector = spec.CreateTrainer().Fit(new TrainingData(train), new TrainingContext(0, backbone));
            var cleanScores = clean.Select(image => detector.Predict(image).Score).ToList();
            var prediction = detector.Predict(scratched);
            // Where the map peaks, and how far that is from the scratch.
            int peak = Array.IndexOf(prediction.Map.Data, prediction.Map.Data.Max());
            double distance = DistanceToScratch(peak / Size, peak % Size);
            double pixelAuroc = new PixelScores([prediction.Map], [mask]).Auroc();
            float margin = prediction.Score - cleanScores.Max();
            results[name] = (margin > 0 && distance <= 8, margin, distance, pixelAuroc);
            output.WriteLine($"{name}: scratched image score {prediction.Score:G5}, clean {string.Join(", ", cleanScores.Select(s => s.ToString("G5")))}; " +
                             $"map peak {distance:F0} px from the scratch; pixel AUROC of the scratch {pixelAuroc:F3}");
        }

        // Tiled: the scratched image scores above every clean one, its map peaks on the scratch, and the scratch's pixels rank high.
        Assert.True(results["tiled"].Found, $"tiled: {results["tiled"]}");
        Assert.True(results["tiled"].PixelAuroc > 0.95, $"tiled: {results["tiled"]}");
        // Untiled: the map peaks far from the scratch, whose pixels rank no better than the rest.
        Assert.False(results["untiled"].Found, $"untiled: {results["untiled"]}");
        Assert.True(results["untiled"].Distance > 100, $"untiled: {results["untiled"]}");
        Assert.True(results["untiled"].PixelAuroc < 0.8, $"untiled: {results["untiled"]}");
    }

    /// <summary>The image with a straight bright scratch 3 pixels wide, and its mask.</summary>
    private static (ImageTensor Image, BinaryMask Mask) Scratch(ImageTensor image)
    {
        var mask = new BinaryMask(Size, Size);
        for (int y = ScratchTop; y < ScratchTop + ScratchWidth; y++)
            for (int x = ScratchLeft; x < ScratchLeft + ScratchLength; x++)
            {
                mask[y, x] = true;
                for (int c = 0; c < image.Channels; c++) image[c, y, x] = Math.Min(1f, image[c, y, x] + 0.3f);
            }
        return (image, mask);
    }

    private static double DistanceToScratch(int y, int x)
    {
        int dy = Math.Max(0, Math.Max(ScratchTop - y, y - (ScratchTop + ScratchWidth - 1)));
        int dx = Math.Max(0, Math.Max(ScratchLeft - x, x - (ScratchLeft + ScratchLength - 1)));
        return Math.Sqrt(dy * dy + dx * dx);
    }
}
