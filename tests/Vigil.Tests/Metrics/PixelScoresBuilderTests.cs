using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

/// <summary>Pixels collected image by image on disk (<see cref="PixelScoresBuilder"/>) against the in-memory <see cref="PixelScores"/>.</summary>
public sealed class PixelScoresBuilderTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("vigil-builder-test-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private PixelScores Streamed(IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks,
        EvaluationResolution resolution = EvaluationResolution.GroundTruth)
    {
        using var builder = new PixelScoresBuilder(resolution, _temp);
        for (int i = 0; i < maps.Count; i++) builder.Add(maps[i], masks[i]);
        return builder.Build();
    }

    /// <summary>
    /// Two 1×2 images: defective pixels 0.9 and 0.5 (one region each), normal 0.7 and 0.2. AUROC: 3 of 4 pairs
    /// ordered = 0.75. AP: precision 1 at recall .5, 2/3 at recall 1 → 5/6. F1: 2/3 at 0.9, 4/5 at 0.5.
    /// PRO curve (0,.5) (.5,.5) (.5,1) (1,1): up to 0.3 area .15 → 0.5; up to 1 area .25 + .5 = .75.
    /// </summary>
    [Fact]
    public void TwoImagesByHand()
    {
        using var pixels = Streamed([new ScoreMap(1, 2, [0.9f, 0.2f]), new ScoreMap(1, 2, [0.7f, 0.5f])], [Mask(1, 2, 0), Mask(1, 2, 1)]);
        Assert.Equal((2, 2L, 2L, 2), (pixels.ImageCount, pixels.AnomalousPixels, pixels.NormalPixels, pixels.RegionCount));
        Assert.Equal(0.75, pixels.Auroc(), 12);
        Assert.Equal(5.0 / 6, pixels.AveragePrecision(), 12);
        Assert.Equal(new F1Max(0.8, 0.5f), pixels.F1Max());
        Assert.Equal(0.5, pixels.AuPro(), 12);
        Assert.Equal(0.75, pixels.AuPro(1.0), 12);
    }

    /// <summary>
    /// Random maps of several sizes with few score levels (ties within and across images, -0 and +0 among them),
    /// masks with several regions, empty masks, and maps smaller than their masks (resized to ground truth).
    /// </summary>
    [Theory]
    [InlineData(1, EvaluationResolution.GroundTruth)]
    [InlineData(2, EvaluationResolution.GroundTruth)]
    [InlineData(3, EvaluationResolution.Model)]
    [InlineData(4, EvaluationResolution.View)]
    public void EqualsTheInMemoryPixels(int seed, EvaluationResolution resolution)
    {
        var (maps, masks) = RandomImages(seed, count: 9);
        var inMemory = new PixelScores(maps, masks, resolution);
        using var streamed = Streamed(maps, masks, resolution);

        Assert.Equal((inMemory.ImageCount, inMemory.AnomalousPixels, inMemory.NormalPixels, inMemory.RegionCount),
            (streamed.ImageCount, streamed.AnomalousPixels, streamed.NormalPixels, streamed.RegionCount));
        Assert.True(inMemory.RegionCount > maps.Length, "the data should have several regions per image");
        Assert.Equal(inMemory.Auroc(), streamed.Auroc()); // integer counts: identical
        Assert.Equal(inMemory.AveragePrecision(), streamed.AveragePrecision());
        Assert.Equal(inMemory.F1Max(), streamed.F1Max());
        foreach (double limit in new[] { 0.3, 0.05, 1.0 })
            Assert.Equal(inMemory.AuPro(limit), streamed.AuPro(limit), 1e-12);
        AssertCurvesEqual(inMemory.RocCurve(0), streamed.RocCurve(0));
        AssertCurvesEqual(inMemory.ProCurve(0.3, 0), streamed.ProCurve(0.3, 0));
        AssertCurvesEqual(inMemory.ProCurve(), streamed.ProCurve());
    }

    [Fact]
    public void EvaluationOfStreamedPixelsEqualsTheListOverload()
    {
        var (maps, masks) = RandomImages(5, count: 6);
        var labels = masks.Select(m => m.Data.Contains(true)).ToArray();
        labels[0] = true; // an anomalous image with an empty mask is allowed
        var scores = maps.Select(m => m.Data.Max()).ToArray();
        var options = new EvaluationOptions { ProFprLimit = 0.2 };
        var expected = Evaluation.Run(scores, labels, maps, masks, options);
        using var pixels = Streamed(maps, masks);
        var actual = Evaluation.Run(scores, labels, pixels, options);
        Assert.Equal(expected with { AuPro = 0, Warnings = [] }, actual with { AuPro = 0, Warnings = [] });
        Assert.Equal(expected.AuPro, actual.AuPro, 1e-12);
        Assert.Empty(actual.Warnings);
    }

    [Fact]
    public void AllNormalPixelsGiveNaNAndTheSameWarningAsTheListOverload()
    {
        var maps = new[] { new ScoreMap(2, 2, [1f, 2f, 3f, 4f]), new ScoreMap(2, 2, [4f, 1f, 1f, 0f]) };
        var masks = new[] { new BinaryMask(2, 2), new BinaryMask(2, 2) };
        float[] scores = [0.1f, 0.9f];
        bool[] labels = [false, true];
        var expected = Evaluation.Run(scores, labels, maps, masks);
        using var pixels = Streamed(maps, masks);
        var actual = Evaluation.Run(scores, labels, pixels);
        Assert.True(double.IsNaN(actual.PixelAuroc) && double.IsNaN(actual.AuPro) && double.IsNaN(actual.PixelAveragePrecision));
        Assert.Equal(expected.Warnings, actual.Warnings);
        Assert.Equal(expected.ImageAuroc, actual.ImageAuroc);
        Assert.Throws<VigilInputException>(() => pixels.Auroc());
    }

    [Fact]
    public void FilesLeaveNothingBehindOnDisposeAndWhenAnImageIsRejected()
    {
        var builder = new PixelScoresBuilder(tempFolder: _temp);
        builder.Add(new ScoreMap(1, 2, [0.9f, 0.2f]), Mask(1, 2, 0));
        // On Unix the file has no name while in use, so a killed process cannot leave it behind.
        Assert.Equal(OperatingSystem.IsWindows(), Directory.EnumerateFileSystemEntries(_temp).Any());
        var pixels = builder.Build();
        builder.Dispose(); // the built pixels own the files now
        Assert.Equal(1.0, pixels.Auroc());
        pixels.Dispose();
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp));

        var e = Assert.Throws<VigilInputException>(() =>
        {
            using var rejected = new PixelScoresBuilder(tempFolder: _temp);
            rejected.Add(new ScoreMap(1, 2, [0.9f, 0.2f]), Mask(1, 2, 0));
            rejected.Add(new ScoreMap(1, 2, [float.NaN, 0.2f]), Mask(1, 2, 0));
        });
        Assert.Contains("Anomaly map #1", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp));
    }

    [Fact]
    public void BuildNeedsAnImageAndHappensOnce()
    {
        using var builder = new PixelScoresBuilder(tempFolder: _temp);
        Assert.Throws<ArgumentException>(() => builder.Build());
        builder.Add(new ScoreMap(1, 1, [1f]), new BinaryMask(1, 1));
        using var pixels = builder.Build();
        Assert.Throws<InvalidOperationException>(() => builder.Add(new ScoreMap(1, 1, [1f]), new BinaryMask(1, 1)));
    }

    private static void AssertCurvesEqual(Curve expected, Curve actual)
    {
        Assert.Equal(expected.X.Count, actual.X.Count);
        for (int i = 0; i < expected.X.Count; i++)
        {
            Assert.Equal(expected.X[i], actual.X[i], 1e-12);
            Assert.Equal(expected.Y[i], actual.Y[i], 1e-12);
        }
    }

    /// <summary>
    /// Maps of a few sizes with scores on a coarse grid; masks of random blobs (several regions) or empty, the mask
    /// twice the map's size for every third image.
    /// </summary>
    private static (ScoreMap[] Maps, BinaryMask[] Masks) RandomImages(int seed, int count)
    {
        var rng = new Random(seed);
        var maps = new ScoreMap[count];
        var masks = new BinaryMask[count];
        for (int i = 0; i < count; i++)
        {
            int h = rng.Next(6, 20), w = rng.Next(6, 20);
            var data = new float[h * w];
            for (int j = 0; j < data.Length; j++) data[j] = rng.Next(-4, 12) * 0.25f; // -0, +0 and many ties
            if (i % 4 == 1) data[0] = -0f;
            maps[i] = new ScoreMap(h, w, data);
            int scale = i % 3 == 2 ? 2 : 1;
            var mask = new BinaryMask(h * scale, w * scale);
            if (i % 4 != 0)
                for (int blob = 0; blob < 3; blob++)
                {
                    int y0 = rng.Next(mask.Height - 2), x0 = rng.Next(mask.Width - 2), bh = rng.Next(1, 4), bw = rng.Next(1, 4);
                    for (int y = y0; y < Math.Min(mask.Height, y0 + bh); y++)
                        for (int x = x0; x < Math.Min(mask.Width, x0 + bw); x++)
                            mask.Data[y * mask.Width + x] = true;
                }
            masks[i] = mask;
        }
        return (maps, masks);
    }
}
