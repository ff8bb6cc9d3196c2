using Vigil.Imaging;

namespace Vigil.Inference;

/// <summary>
/// Decision thresholds and score normalisation of a fitted detector, fitted on a validation split taken from the
/// training data. Normalised scores follow anomalib's min-max rule, (s − threshold) / (max − min) + 0.5 clipped to
/// [0, 1], so the threshold always maps to 0.5 whatever the model's raw score scale; min and max are the validation
/// set's lowest and highest score.
/// </summary>
public sealed record ScoreCalibration(
    string Rule,
    int ValidationNormal,
    int ValidationAnomalous,
    float ImageThreshold,
    float ImageMin,
    float ImageMax,
    float PixelThreshold,
    float PixelMin,
    float PixelMax)
{
    /// <summary>Anomalous when the raw score reaches the threshold (the convention of every threshold metric in Vigil).</summary>
    public bool IsAnomalous(float score) => score >= ImageThreshold;

    public float NormaliseImage(float score) => Normalise(score, ImageThreshold, ImageMin, ImageMax);

    public ScoreMap NormaliseMap(ScoreMap map) =>
        new(map.Height, map.Width, Array.ConvertAll(map.Data, v => Normalise(v, PixelThreshold, PixelMin, PixelMax)));

    /// <summary>Pixels whose raw score reaches the pixel threshold.</summary>
    public BinaryMask Segment(ScoreMap map) => new(map.Height, map.Width, Array.ConvertAll(map.Data, v => v >= PixelThreshold));

    /// <summary>A prediction with its label and normalised scores.</summary>
    public CalibratedPrediction Apply(Prediction prediction) =>
        new(prediction.Score, NormaliseImage(prediction.Score), IsAnomalous(prediction.Score), prediction.Map);

    private static float Normalise(float value, float threshold, float min, float max)
    {
        float range = max > min ? max - min : 1;
        return Math.Clamp((value - threshold) / range + 0.5f, 0, 1);
    }
}

/// <summary>A detector's output with the calibrated decision: raw score, normalised score in [0, 1] (0.5 = threshold) and label.</summary>
public sealed record CalibratedPrediction(float Score, float NormalisedScore, bool IsAnomalous, ScoreMap Map);
