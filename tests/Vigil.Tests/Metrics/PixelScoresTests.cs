using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

public class PixelScoresTests
{
    /// <summary>
    /// One 2-pixel region (0.9, 0.5) and normal pixels 0.7, 0.3, 0.2, 0.1. Descending thresholds give the PRO curve
    /// (0,0) (0,.5) (.25,.5) (.25,1) (.5,1) (.75,1) (1,1).
    /// Up to 0.3: 0.5·0.25 + 1·0.05 (y interpolated at 0.3 is 1) = 0.175 → /0.3. Up to 1: 0.125 + 0.75 = 0.875.
    /// </summary>
    [Fact]
    public void AuProOfOneRegionByHand()
    {
        var map = new ScoreMap(2, 3, [0.9f, 0.7f, 0.3f, 0.5f, 0.2f, 0.1f]);
        var pixels = new PixelScores([map], [Mask(2, 3, 0, 3)]);
        Assert.Equal(1, pixels.RegionCount);
        Assert.Equal(0.175 / 0.3, pixels.AuPro(), 12);
        Assert.Equal(0.875, pixels.AuPro(1.0), 12);
    }

    /// <summary>
    /// Regions {0} (score 0.95) and {3,4} (0.05, 0.04, below every normal pixel 0.9..0.5). Region 2 never overlaps
    /// before the FPR limit, yet it counts in the mean: PRO stays 0.5 up to FPR 1. Area up to 0.3 = 0.5·0.3 → 0.5.
    /// </summary>
    [Fact]
    public void RegionThatNeverReachesTheLimitStillCountsInTheMean()
    {
        var map = new ScoreMap(1, 8, [0.95f, 0.9f, 0.8f, 0.05f, 0.04f, 0.7f, 0.6f, 0.5f]);
        var pixels = new PixelScores([map], [Mask(1, 8, 0, 3, 4)]);
        Assert.Equal(2, pixels.RegionCount);
        Assert.Equal(0.5, pixels.AuPro(0.3), 12);
        // Up to FPR 1: 0.5·1, then the vertical rise at FPR 1 adds no area.
        Assert.Equal(0.5, pixels.AuPro(1.0), 12);
    }

    [Fact]
    public void RegionsAreAveragedOverAllImagesNotPerImage()
    {
        // Image A: one region, fully found first. Image B: three single-pixel regions found last.
        var a = new ScoreMap(1, 3, [1f, 0.5f, 0.4f]);
        var b = new ScoreMap(1, 5, [0.1f, 0.3f, 0.1f, 0.3f, 0.1f]);
        var pixels = new PixelScores([a, b], [Mask(1, 3, 0), Mask(1, 5, 0, 2, 4)]);
        Assert.Equal(4, pixels.RegionCount);
        // Normal pixels 0.5, 0.4, 0.3, 0.3 (4). PRO = 1/4 until the anomalous 0.1s at FPR 1: area to 1 = 0.25.
        Assert.Equal(0.25, pixels.AuPro(1.0), 12);
    }

    [Fact]
    public void DiagonalNeighboursFormOneRegion()
    {
        var labels = ConnectedComponents.Label(Mask(3, 3, 0, 4, 8, 2), out int count);
        Assert.Equal(1, count);
        Assert.All(new[] { 0, 2, 4, 8 }, i => Assert.Equal(1, labels[i]));
        // (0,0)-(1,1) touch diagonally; (0,3) and (2,3) are two rows apart.
        ConnectedComponents.Label(Mask(3, 4, 0, 5, 3, 11), out int separate);
        Assert.Equal(3, separate);
    }

    [Fact]
    public void PixelAurocEqualsImageAurocOnTheFlattenedPixels()
    {
        var rng = new Random(7);
        var maps = Enumerable.Range(0, 3).Select(_ => new ScoreMap(4, 5, Enumerable.Range(0, 20).Select(_ => (float)Math.Round(rng.NextDouble(), 1)).ToArray())).ToList();
        var masks = Enumerable.Range(0, 3).Select(_ => new BinaryMask(4, 5, Enumerable.Range(0, 20).Select(_ => rng.NextDouble() < 0.3).ToArray())).ToList();
        var pixels = new PixelScores(maps, masks);
        var flatScores = maps.SelectMany(m => m.Data).ToArray();
        var flatLabels = masks.SelectMany(m => m.Data).ToArray();
        Assert.Equal(ImageScores.Auroc(flatScores, flatLabels), pixels.Auroc(), 12);
        Assert.Equal(ImageScores.AveragePrecision(flatScores, flatLabels), pixels.AveragePrecision(), 12);
        Assert.Equal(ImageScores.F1Max(flatScores, flatLabels), pixels.F1Max());
    }

    [Fact]
    public void ResolutionDecidesWhichSideIsResizedAndIsRecorded()
    {
        var map = new ScoreMap(2, 2, [0.1f, 0.9f, 0.2f, 0.3f]);
        var mask = Mask(4, 4, 2, 3, 6, 7); // top-right quarter
        var atTruth = new PixelScores([map], [mask]);
        Assert.Equal((EvaluationResolution.GroundTruth, 16L), (atTruth.Resolution, atTruth.AnomalousPixels + atTruth.NormalPixels));
        var atModel = new PixelScores([map], [mask], EvaluationResolution.Model);
        Assert.Equal((EvaluationResolution.Model, 1L, 3L), (atModel.Resolution, atModel.AnomalousPixels, atModel.NormalPixels));
        Assert.Equal(1.0, atModel.Auroc(), 12); // the top-right map pixel (0.9) is the highest
    }

    [Fact]
    public void NoAnomalousPixelMakesPixelMetricsThrow()
    {
        var pixels = new PixelScores([new ScoreMap(2, 2, [1f, 2f, 3f, 4f])], [new BinaryMask(2, 2)]);
        foreach (var metric in new Action[] { () => pixels.Auroc(), () => pixels.AveragePrecision(), () => pixels.F1Max(), () => pixels.AuPro() })
            Assert.Contains("defective pixel", Assert.Throws<VigilInputException>(metric).Message);
    }

    [Fact]
    public void AllPixelsAnomalousMakesAurocAndProThrow()
    {
        var pixels = new PixelScores([new ScoreMap(1, 2, [1f, 2f])], [Mask(1, 2, 0, 1)]);
        Assert.Equal(1.0, pixels.AveragePrecision(), 12);
        Assert.Contains("normal pixels", Assert.Throws<VigilInputException>(() => pixels.Auroc()).Message);
        Assert.Throws<VigilInputException>(() => pixels.AuPro());
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteMapValueIsNamed(float bad)
    {
        var good = new ScoreMap(2, 2, [1f, 2f, 3f, 4f]);
        var broken = new ScoreMap(2, 2, [1f, 2f, bad, 4f]);
        var e = Assert.Throws<VigilInputException>(() => new PixelScores([good, broken], [Mask(2, 2, 0), Mask(2, 2)]));
        Assert.Contains("Anomaly map #1", e.Message);
        Assert.Contains("y=1, x=0", e.Message);
    }

    [Fact]
    public void MismatchedCountsEmptyInputAndBadLimitAreRejected()
    {
        var map = new ScoreMap(2, 2, [1f, 2f, 3f, 4f]);
        Assert.Contains("1 anomaly maps but 2 masks",
            Assert.Throws<ArgumentException>(() => new PixelScores([map], [Mask(2, 2, 0), Mask(2, 2)])).Message);
        Assert.Throws<ArgumentException>(() => new PixelScores([], []));
        var pixels = new PixelScores([map], [Mask(2, 2, 0)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => pixels.AuPro(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => pixels.AuPro(1.5));
    }
}
