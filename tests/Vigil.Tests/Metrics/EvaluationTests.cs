using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

public class EvaluationTests
{
    private static readonly ScoreMap[] Maps =
    [
        new(2, 2, [0.9f, 0.1f, 0.2f, 0.3f]),
        new(2, 2, [0.4f, 0.5f, 0.05f, 0.15f]),
        new(2, 2, [0.35f, 0.25f, 0.6f, 0.7f]),
    ];
    private static readonly BinaryMask[] Masks = [Mask(2, 2, 0), Mask(2, 2), Mask(2, 2, 3)];

    [Fact]
    public void CombinesImageAndPixelMetricsAndRecordsTheSetup()
    {
        float[] imageScores = [0.9f, 0.5f, 0.7f];
        bool[] imageLabels = [true, false, true];
        var r = Evaluation.Run(imageScores, imageLabels, Maps, Masks, new EvaluationOptions { ProFprLimit = 0.2 });
        Assert.Equal(ImageScores.Auroc(imageScores, imageLabels), r.ImageAuroc);
        Assert.Equal(1.0, r.ImageAuroc, 12);
        Assert.Equal(ImageScores.AveragePrecision(imageScores, imageLabels), r.ImageAveragePrecision);
        Assert.Equal(ImageScores.F1Max(imageScores, imageLabels), r.ImageF1Max);
        var pixels = new PixelScores(Maps, Masks);
        Assert.Equal(pixels.Auroc(), r.PixelAuroc);
        Assert.Equal(pixels.AveragePrecision(), r.PixelAveragePrecision);
        Assert.Equal(pixels.F1Max(), r.PixelF1Max);
        Assert.Equal(pixels.AuPro(0.2), r.AuPro);
        Assert.Equal((0.2, EvaluationResolution.GroundTruth), (r.ProFprLimit, r.Resolution));
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void NoGoodImageMakesImageAurocNaNWithAWarning()
    {
        var r = Evaluation.Run([0.9f, 0.7f], [true, true], [Maps[0], Maps[2]], [Masks[0], Masks[2]]);
        Assert.True(double.IsNaN(r.ImageAuroc));
        Assert.False(double.IsNaN(r.ImageAveragePrecision));
        Assert.False(double.IsNaN(r.PixelAuroc));
        Assert.Contains(r.Warnings, w => w.Contains("image AUROC is NaN"));
    }

    [Fact]
    public void NoDefectAnywhereMakesAllMetricsNaNWithAWarning()
    {
        var empty = new BinaryMask(2, 2);
        var r = Evaluation.Run([0.1f, 0.2f], [false, false], [Maps[0], Maps[1]], [empty, empty], new EvaluationOptions { Resolution = EvaluationResolution.Model });
        Assert.All(new[] { r.ImageAuroc, r.ImageAveragePrecision, r.ImageF1Max.F1, r.PixelAuroc, r.PixelAveragePrecision, r.PixelF1Max.F1, r.AuPro },
            v => Assert.True(double.IsNaN(v)));
        Assert.Equal(EvaluationResolution.Model, r.Resolution);
        Assert.Single(r.Warnings);
    }

    [Fact]
    public void InvalidInputThrowsInsteadOfReturningNaN()
    {
        Assert.Throws<ArgumentException>(() => Evaluation.Run([0.1f], [true], Maps, Masks));
        Assert.Contains("Image score #1", Assert.Throws<VigilInputException>(() => Evaluation.Run([0.1f, float.NaN, 0.3f], [true, false, true], Maps, Masks)).Message);
        var broken = new ScoreMap(2, 2, [0f, float.PositiveInfinity, 0f, 0f]);
        Assert.Throws<VigilInputException>(() => Evaluation.Run([0.1f, 0.2f, 0.3f], [true, false, true], [Maps[0], broken, Maps[2]], Masks));
    }

    [Fact]
    public void AnAnomalousImageWithAnEmptyMaskCountsAsAnomalousAtImageLevel()
    {
        // Image 1 is a defect with a blank mask (as four of MTD's): it is the top-ranked anomaly, so AUROC stays 1
        // only if its label is taken from the dataset, not from its mask.
        var empty = new BinaryMask(2, 2);
        var r = Evaluation.Run([0.2f, 0.9f, 0.7f], [false, true, true], Maps, [empty, empty, Masks[2]]);
        Assert.Equal(1.0, r.ImageAuroc, 12);
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void ImageLevelLabelsOnlyGiveNaNPixelMetricsWithAWarning()
    {
        var empty = new BinaryMask(2, 2);
        var r = Evaluation.Run([0.2f, 0.9f], [false, true], [Maps[0], Maps[1]], [empty, empty]);
        Assert.Equal(1.0, r.ImageAuroc, 12);
        Assert.True(double.IsNaN(r.PixelAuroc));
        Assert.Contains(r.Warnings, w => w.Contains("pixel metrics are NaN"));
    }

    [Fact]
    public void ANormalLabelWithADefectiveMaskIsRejected()
    {
        Assert.Throws<ArgumentException>(() => Evaluation.Run([0.1f, 0.2f, 0.3f], [false, false, true], Maps, Masks));
    }
}
