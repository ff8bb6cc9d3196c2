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
        var r = Evaluation.Run(imageScores, Maps, Masks, new EvaluationOptions { ProFprLimit = 0.2 });
        bool[] imageLabels = [true, false, true];
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
        var r = Evaluation.Run([0.9f, 0.7f], [Maps[0], Maps[2]], [Masks[0], Masks[2]]);
        Assert.True(double.IsNaN(r.ImageAuroc));
        Assert.False(double.IsNaN(r.ImageAveragePrecision));
        Assert.False(double.IsNaN(r.PixelAuroc));
        Assert.Contains(r.Warnings, w => w.Contains("image AUROC is NaN"));
    }

    [Fact]
    public void NoDefectAnywhereMakesAllMetricsNaNWithAWarning()
    {
        var empty = new BinaryMask(2, 2);
        var r = Evaluation.Run([0.1f, 0.2f], [Maps[0], Maps[1]], [empty, empty], new EvaluationOptions { Resolution = EvaluationResolution.Model });
        Assert.All(new[] { r.ImageAuroc, r.ImageAveragePrecision, r.ImageF1Max.F1, r.PixelAuroc, r.PixelAveragePrecision, r.PixelF1Max.F1, r.AuPro },
            v => Assert.True(double.IsNaN(v)));
        Assert.Equal(EvaluationResolution.Model, r.Resolution);
        Assert.Single(r.Warnings);
    }

    [Fact]
    public void InvalidInputThrowsInsteadOfReturningNaN()
    {
        Assert.Throws<ArgumentException>(() => Evaluation.Run([0.1f], Maps, Masks));
        Assert.Contains("Image score #1", Assert.Throws<VigilInputException>(() => Evaluation.Run([0.1f, float.NaN, 0.3f], Maps, Masks)).Message);
        var broken = new ScoreMap(2, 2, [0f, float.PositiveInfinity, 0f, 0f]);
        Assert.Throws<VigilInputException>(() => Evaluation.Run([0.1f, 0.2f, 0.3f], [Maps[0], broken, Maps[2]], Masks));
    }
}
