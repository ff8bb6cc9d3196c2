using System.Text.Json.Serialization;
using Vigil.Metrics;

namespace Vigil.Records;

/// <summary>What one benchmark cell (see <see cref="CellSpec"/>) produced.</summary>
/// <param name="RandomWeights">The backbone had random weights (asked for explicitly): not a pretrained result.</param>
/// <param name="TrainCount">Training images the setting produced (labelled anomalies and augmented variants included).</param>
/// <param name="Notes">What the run changed or could not do, e.g. labelled anomalies left out of training.</param>
/// <param name="Artifacts">Overlays and pixel curves (their PNGs are stored beside the cell); null when the cell was run without them.</param>
/// <param name="TestedModel">For an evaluation of a saved model (<c>vigil test</c>): the file and how its threshold did.</param>
public sealed record CellResult(
    CellSpec Spec,
    bool RandomWeights,
    int TrainCount,
    int TestCount,
    EvaluationResult Metrics,
    Efficiency Efficiency,
    IReadOnlyList<ImageOutcome> Images,
    IReadOnlyList<string> Notes,
    CellArtifactIndex? Artifacts = null,
    TestedModel? TestedModel = null)
{
    /// <summary>The loss curves and kept epoch of a gradient-trained model; null for the other models.</summary>
    public TrainingLog? Training { get; init; }

    /// <summary>
    /// The official MVTec LOCO evaluation (AUC-sPRO per FPR limit and image AUROC for logical, structural and both
    /// kinds of anomaly) when the test images are MVTec LOCO's; null for other data.
    /// </summary>
    public LocoEvaluationResult? Loco { get; init; }

    /// <summary>
    /// Why the cell's model cannot run its setting (e.g. a supervised model where the setting gives no labelled
    /// anomaly); null for a cell that ran. Such a cell holds no result: NaN metrics and times, no images.
    /// </summary>
    public string? NotApplicable { get; init; }

    /// <summary>The row a grid records for a model that cannot run the cell's setting: reported, never run otherwise.</summary>
    public static CellResult NotApplicableCell(CellSpec spec, bool randomWeights, string reason)
    {
        var undefined = new F1Max(double.NaN, float.NaN);
        var metrics = new EvaluationResult(double.NaN, double.NaN, undefined, double.NaN, double.NaN, undefined, double.NaN, double.NaN,
            EvaluationResolution.GroundTruth, []);
        return new CellResult(spec, randomWeights, 0, 0, metrics, new Efficiency(double.NaN, double.NaN, double.NaN, 0, 0, double.NaN, 0, 0), [], [reason]) { NotApplicable = reason };
    }

    [JsonIgnore]
    public CellKey Key => Spec.Key;

    [JsonIgnore]
    public string Backbone => Spec.Backbone;
}

/// <summary>
/// Cost of a cell. Latency is per Predict call (one image, preprocessing and map post-processing included), over
/// the test set after one warm-up call; throughput is images per second at the fastest batch size tried; peak memory
/// is the process's resident high-water mark from the start of the cell's fit (reset then) to its end, so it includes
/// what the process held before the cell; the model file is what <c>vigil train</c> would save.
/// </summary>
public sealed record Efficiency(
    double FitSeconds,
    double LatencyMedianMs,
    double LatencyP95Ms,
    long PeakWorkingSetBytes,
    long StateBytes,
    double ThroughputImagesPerSecond,
    int ThroughputBatchSize,
    long ModelFileBytes);

/// <summary>One test image's ground truth and score.</summary>
public sealed record ImageOutcome(string Path, bool Anomalous, string DefectType, float Score);

/// <summary>A saved model evaluated by <c>vigil test</c>: which file, and its calibrated decisions on the test images.</summary>
/// <param name="Threshold">The calibrated image threshold (score ≥ threshold is anomalous); null when the model has none.</param>
public sealed record TestedModel(string ModelFile, string ThresholdRule, float? Threshold, ConfusionCounts? Confusion);

/// <summary>Decisions at a threshold against the ground truth.</summary>
public sealed record ConfusionCounts(int TruePositives, int FalseNegatives, int FalsePositives, int TrueNegatives)
{
    /// <summary>Counts of images with score ≥ <paramref name="threshold"/> called anomalous.</summary>
    public static ConfusionCounts At(IReadOnlyList<ImageOutcome> images, float threshold)
    {
        int tp = images.Count(i => i.Anomalous && i.Score >= threshold), fp = images.Count(i => !i.Anomalous && i.Score >= threshold);
        return new ConfusionCounts(tp, images.Count(i => i.Anomalous) - tp, fp, images.Count(i => !i.Anomalous) - fp);
    }

    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);
    public double FalsePositiveRate => Ratio(FalsePositives, FalsePositives + TrueNegatives);

    private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
}
