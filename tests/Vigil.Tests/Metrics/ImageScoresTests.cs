using Vigil.Metrics;

namespace Vigil.Tests.Metrics;

/// <summary>Hand-computed small cases; see the comments for the curves worked out by hand.</summary>
public class ImageScoresTests
{
    // sklearn documentation example: roc_auc_score = 0.75, average_precision_score = 0.8333...
    private static readonly float[] DocScores = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly bool[] DocLabels = [false, false, true, true];

    [Fact]
    public void SklearnDocumentationExample()
    {
        Assert.Equal(0.75, ImageScores.Auroc(DocScores, DocLabels), 12);
        Assert.Equal(5.0 / 6.0, ImageScores.AveragePrecision(DocScores, DocLabels), 12);
    }

    [Fact]
    public void F1MaxIsTheBestThresholdAndReportsIt()
    {
        // Thresholds 0.8 → F1 2/3, 0.4 → 1/2, 0.35 → TP 2, FP 1 → 4/5, 0.1 → 2/3.
        var f1 = ImageScores.F1Max(DocScores, DocLabels);
        Assert.Equal(0.8, f1.F1, 12);
        Assert.Equal(0.35f, f1.Threshold);
    }

    [Fact]
    public void TiedScoresFormOneThreshold()
    {
        // Threshold 0.5 takes one anomalous and one normal sample together: ROC (0,0) → (0.5,1) → (1,1), area 0.75.
        float[] scores = [0.5f, 0.5f, 0.2f];
        bool[] labels = [true, false, false];
        Assert.Equal(0.75, ImageScores.Auroc(scores, labels), 12);
        // AP: the single step reaches recall 1 at precision 1/2.
        Assert.Equal(0.5, ImageScores.AveragePrecision(scores, labels), 12);
    }

    [Fact]
    public void NegativeZeroTiesWithPositiveZero()
    {
        Assert.Equal(0.5, ImageScores.Auroc([-0f, 0f], [true, false]), 12);
    }

    [Fact]
    public void AllEqualScoresGiveChanceLevel()
    {
        float[] scores = [3f, 3f, 3f, 3f, 3f];
        bool[] labels = [true, false, false, true, false];
        Assert.Equal(0.5, ImageScores.Auroc(scores, labels), 12);
        Assert.Equal(2.0 / 5.0, ImageScores.AveragePrecision(scores, labels), 12);
        var f1 = ImageScores.F1Max(scores, labels);
        Assert.Equal(2.0 * 2 / (2 * 2 + 3), f1.F1, 12); // everything predicted anomalous
        Assert.Equal(3f, f1.Threshold);
    }

    [Fact]
    public void OnlyAnomalousSamplesMakeApOneButAurocUndefined()
    {
        float[] scores = [0.2f, 0.9f];
        bool[] labels = [true, true];
        Assert.Equal(1.0, ImageScores.AveragePrecision(scores, labels), 12);
        var e = Assert.Throws<VigilInputException>(() => ImageScores.Auroc(scores, labels));
        Assert.Contains("normal samples", e.Message);
    }

    [Fact]
    public void OnlyNormalSamplesAreRejectedByEveryMetric()
    {
        float[] scores = [0.2f, 0.9f];
        bool[] labels = [false, false];
        Assert.Contains("anomalous samples", Assert.Throws<VigilInputException>(() => ImageScores.Auroc(scores, labels)).Message);
        Assert.Throws<VigilInputException>(() => ImageScores.AveragePrecision(scores, labels));
        Assert.Throws<VigilInputException>(() => ImageScores.F1Max(scores, labels));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteScoreIsNamed(float bad)
    {
        var e = Assert.Throws<VigilInputException>(() => ImageScores.Auroc([0.1f, bad, 0.3f], [true, false, false]));
        Assert.Contains("Score #1", e.Message);
    }

    [Fact]
    public void MismatchedAndEmptyInputsAreRejected()
    {
        Assert.Contains("2 scores but 3 labels",
            Assert.Throws<ArgumentException>(() => ImageScores.Auroc([0.1f, 0.2f], [true, false, true])).Message);
        Assert.Contains("No scores", Assert.Throws<ArgumentException>(() => ImageScores.AveragePrecision([], [])).Message);
    }
}
