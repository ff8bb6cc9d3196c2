using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Metrics;

namespace Vigil.Deployment;

/// <summary>Fits a <see cref="ScoreCalibration"/> by scoring validation images with a fitted detector.</summary>
public static class Calibrator
{
    /// <summary>
    /// Scores every validation sample and, when <paramref name="syntheticAnomalies"/> is set, a CutPaste copy of each
    /// normal one (seeded by <paramref name="seed"/> and the image's position), then sets image and pixel thresholds by
    /// <paramref name="rule"/> and the normalisation range from all validation scores.
    /// </summary>
    public static ScoreCalibration Fit(IDetector detector, IReadOnlyList<Sample> validation, ThresholdRule rule,
        bool syntheticAnomalies, int seed, IProgress<(int Done, int Total)>? progress = null)
    {
        if (validation.Count == 0)
            throw new VigilInputException("Calibration needs validation images; hold some training images back (a validation ratio above 0).");
        int total = validation.Count + (syntheticAnomalies ? validation.Count(s => !s.IsAnomalous) : 0);
        var scores = new List<float>();
        var labels = new List<bool>();
        var maps = new List<ScoreMap>();
        var masks = new List<BinaryMask>();
        void Score(ImageTensor image, BinaryMask mask, bool anomalous)
        {
            var prediction = detector.Predict(image);
            scores.Add(prediction.Score);
            labels.Add(anomalous);
            maps.Add(prediction.Map);
            masks.Add(mask);
            progress?.Report((scores.Count, total));
        }
        for (int i = 0; i < validation.Count; i++)
        {
            var (image, mask) = validation[i].Load();
            Score(image, mask, validation[i].IsAnomalous);
            if (syntheticAnomalies && !validation[i].IsAnomalous)
            {
                var (pasted, pastedMask) = CutPaste.Apply(image, ((ulong)(uint)seed << 32) | (uint)i);
                Score(pasted, pastedMask, true);
            }
        }

        int anomalous = labels.Count(l => l);
        float imageThreshold, pixelThreshold;
        switch (rule)
        {
            case ThresholdRule.F1Optimal:
                if (anomalous == 0 || anomalous == labels.Count)
                    throw new VigilInputException("An F1-optimal threshold needs normal and anomalous validation images: add --synthetic-anomalies (a CutPaste copy of each validation image), or use a fixed false-positive rate (--threshold fpr:0.01).");
                imageThreshold = ImageScores.F1Max(scores, labels).Threshold;
                var pixels = new PixelScores(maps, masks);
                pixelThreshold = pixels.AnomalousPixels > 0 ? pixels.F1Max().Threshold : throw new VigilInputException("An F1-optimal pixel threshold needs validation anomalies with masks.");
                break;
            case ThresholdRule.FixedFpr(double fpr):
                var normal = Enumerable.Range(0, labels.Count).Where(i => !labels[i]).ToList();
                if (normal.Count == 0) throw new VigilInputException("A fixed false-positive-rate threshold needs normal validation images.");
                imageThreshold = FixedFprThreshold(normal.Select(i => scores[i]).ToArray(), fpr);
                pixelThreshold = FixedFprThreshold(normal.SelectMany(i => maps[i].Data).ToArray(), fpr);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown threshold rule.");
        }
        return new ScoreCalibration(rule.ToString()!, labels.Count - anomalous, anomalous,
            imageThreshold, scores.Min(), scores.Max(),
            pixelThreshold, maps.Min(m => m.Data.Min()), maps.Max(m => m.Data.Max()));
    }

    /// <summary>
    /// The smallest threshold t (score ≥ t is anomalous) that flags at most ⌊fpr·n⌋ of the n normal scores: the float
    /// just above the (⌊fpr·n⌋+1)-th largest score. Ties at that score are all left unflagged.
    /// </summary>
    public static float FixedFprThreshold(float[] normalScores, double fpr)
    {
        if (normalScores.Length == 0) throw new ArgumentException("No normal scores.", nameof(normalScores));
        var sorted = (float[])normalScores.Clone();
        Array.Sort(sorted);
        int allowed = (int)Math.Floor(fpr * sorted.Length);
        return MathF.BitIncrement(sorted[sorted.Length - 1 - Math.Min(allowed, sorted.Length - 1)]);
    }
}
