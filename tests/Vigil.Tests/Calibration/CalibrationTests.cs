using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Tests.Detectors;

namespace Vigil.Tests.Calibration;

public class CalibrationTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    [Fact]
    public void FixedFprThresholdFlagsExactlyTheAllowedShareOfNormals()
    {
        float[] scores = [3, 1, 4, 10, 5, 9, 2, 6, 8, 7];
        // 20 % of 10 normals: the two highest (9, 10) are flagged, 8 is not.
        float t = Calibrator.FixedFprThreshold(scores, 0.2);
        Assert.Equal(2, scores.Count(s => s >= t));
        Assert.True(t > 8 && t <= 9);
        Assert.Equal(0, scores.Count(s => s >= Calibrator.FixedFprThreshold(scores, 0)));
        Assert.Equal(1, scores.Count(s => s >= Calibrator.FixedFprThreshold(scores, 0.15))); // ⌊1.5⌋ = 1
        // Ties at the cut are all left unflagged, so the rate is never exceeded.
        float[] tied = [1, 2, 3, 3, 3];
        Assert.Equal(0, tied.Count(s => s >= Calibrator.FixedFprThreshold(tied, 0.2)));
    }

    [Theory]
    [InlineData("f1", "f1")]
    [InlineData(" FPR:0.05 ", "fpr:0.05")]
    [InlineData("fpr:0", "fpr:0")]
    public void ThresholdRulesParse(string spec, string canonical) => Assert.Equal(canonical, ThresholdRule.Parse(spec).ToString());

    [Theory]
    [InlineData("fpr:1.5", "[0, 1)")]
    [InlineData("fpr:x", "Unknown threshold rule")]
    [InlineData("youden", "fpr:")]
    public void BadThresholdRulesSayWhatIsAccepted(string spec, string expected) =>
        Assert.Contains(expected, Assert.Throws<VigilInputException>(() => ThresholdRule.Parse(spec)).Message);

    [Fact]
    public void NormalisationMapsTheThresholdToOneHalfAndClips()
    {
        var c = new ScoreCalibration("f1", 1, 1, ImageThreshold: 4, ImageMin: 2, ImageMax: 10, PixelThreshold: 1, PixelMin: 0, PixelMax: 2);
        Assert.Equal(0.5f, c.NormaliseImage(4));
        Assert.Equal(0.75f, c.NormaliseImage(6)); // (6 − 4) / (10 − 2) + 0.5
        Assert.Equal(0f, c.NormaliseImage(-100));
        Assert.Equal(1f, c.NormaliseImage(100));
        Assert.True(c.IsAnomalous(4) && !c.IsAnomalous(3.999f));
        var map = new ScoreMap(1, 3, [0, 1, 2]);
        Assert.Equal([0f, 0.5f, 1f], c.NormaliseMap(map).Data);
        Assert.Equal([false, true, true], c.Segment(map).Data);
    }

    [Fact]
    public void ValidationSplitHoldsBackSeededNormalsOnly()
    {
        var train = Enumerable.Range(0, 20).Select(i => new Sample($"/d/{i:D2}.png", SampleLabel.Normal, "good", "d", "c"))
            .Append(new Sample("/d/bad.png", SampleLabel.Anomalous, "crack", "d", "c")).ToList();
        var (fit, validation) = ValidationSplit.Take(train, 0.1, seed: 4);
        Assert.Equal(2, validation.Count);
        Assert.Equal(19, fit.Count);
        Assert.Empty(fit.Intersect(validation));
        Assert.All(validation, s => Assert.False(s.IsAnomalous));
        Assert.Contains(fit, s => s.IsAnomalous);
        Assert.Equal(validation, ValidationSplit.Take(train, 0.1, seed: 4).Validation);
        var others = Enumerable.Range(0, 10).Select(seed => ValidationSplit.Take(train, 0.1, seed).Validation).ToList();
        Assert.Contains(others, v => !v.SequenceEqual(validation));
        Assert.Empty(ValidationSplit.Take(train, 0, 4).Validation);
        Assert.Throws<VigilInputException>(() => ValidationSplit.Take(train, 1, 4));
    }

    [Fact]
    public void AValidationMinimumRaisesASmallRatioAndRefusesTooFewImages()
    {
        // 16 normals at ratio 0.1 would hold back round(1.6) = 2 images: a threshold's false-positive rate on them moves
        // in steps of 50 %. With a minimum of 5, five are held back and 11 train.
        var train = Enumerable.Range(0, 16).Select(i => new Sample($"/d/{i:D2}.png", SampleLabel.Normal, "good", "d", "c")).ToList();
        Assert.Equal(2, ValidationSplit.Take(train, 0.1, seed: 3).Validation.Count);
        var (fit, validation) = ValidationSplit.Take(train, 0.1, seed: 3, minimum: 5);
        Assert.Equal((11, 5), (fit.Count, validation.Count));
        Assert.Empty(fit.Intersect(validation));

        var error = Assert.Throws<VigilInputException>(() => ValidationSplit.Take(train.Take(5).ToList(), 0.1, seed: 3, minimum: 5));
        Assert.Contains("needs at least 6 normal training images; got 5", error.Message);
        Assert.Contains("validation ratio of 0", error.Message);
    }

    [Fact]
    public void ValidationNeverHoldsACopyOfATrainingImage()
    {
        // Few-shot training: 4 originals, each followed by 2 rotated variants of the same file.
        var train = Enumerable.Range(0, 4).SelectMany(i => new[] { 0, 1, 2 }.Select(v =>
            new Sample($"/d/{i}.png", SampleLabel.Normal, "good", "d", "c", null, v == 0 ? null : new Augmentation(v, RotationDegrees: 120 * v)))).ToList();
        var (fit, validation) = ValidationSplit.Take(train, 0.25, seed: 1);
        var held = Assert.Single(validation);
        Assert.Null(held.Augmentation);
        Assert.Equal(9, fit.Count);
        Assert.DoesNotContain(fit, s => s.SourcePath == held.SourcePath);
    }

    [Fact]
    public void CutPasteChangesOnlyItsMaskAndIsSeeded()
    {
        var image = fixture.Data.Train[0].LoadImage();
        var (pasted, mask) = CutPaste.Apply(image, 11);
        int area = mask.CountDefective(), pixels = image.Height * image.Width;
        Assert.InRange(area, (int)(0.015 * pixels), (int)(0.16 * pixels));
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                    if (!mask[y, x]) Assert.Equal(image[c, y, x], pasted[c, y, x]);
        var again = CutPaste.Apply(image, 11);
        Assert.Equal(pasted.Data, again.Image.Data);
        Assert.NotEqual(mask.Data, CutPaste.Apply(image, 12).Mask.Data);
    }

    [Fact]
    public void CalibrationOnSyntheticAnomaliesSeparatesTheirScores()
    {
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(seed: 2));
        var (train, validation) = ValidationSplit.Take(fixture.Data.Train, 0.25, seed: 0);
        detector.Fit(train);

        var fpr = Calibrator.Fit(detector, validation, new ThresholdRule.FixedFpr(0), syntheticAnomalies: false, seed: 0);
        Assert.Equal((3, 0), (fpr.ValidationNormal, fpr.ValidationAnomalous));
        var validationScores = validation.Select(s => detector.Predict(s.LoadImage()).Score).ToList();
        Assert.All(validationScores, s => Assert.False(fpr.IsAnomalous(s))); // FPR 0: no validation normal is flagged
        Assert.Equal(validationScores.Min(), fpr.ImageMin);
        Assert.Equal(validationScores.Max(), fpr.ImageMax);

        var f1 = Calibrator.Fit(detector, validation, new ThresholdRule.F1Optimal(), syntheticAnomalies: true, seed: 0);
        Assert.Equal((3, 3), (f1.ValidationNormal, f1.ValidationAnomalous));
        Assert.InRange(f1.ImageThreshold, f1.ImageMin, f1.ImageMax);
        Assert.Contains("--synthetic-anomalies", Assert.Throws<VigilInputException>(() =>
            Calibrator.Fit(detector, validation, new ThresholdRule.F1Optimal(), syntheticAnomalies: false, seed: 0)).Message);
    }
}
