using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>What an MVTec LOCO test image is: its test folder (good, logical_anomalies, structural_anomalies).</summary>
public enum LocoImageKind { Good, Logical, Structural }

/// <summary>Image AUROC and normalised AUC-sPRO per FPR limit of one group of LOCO test images; NaN where the group cannot define them.</summary>
public sealed record LocoScores(double ImageAuroc, IReadOnlyDictionary<double, double> AucSpro);

/// <summary>
/// What the official MVTec LOCO evaluation reports, plus the pooled set. <see cref="Logical"/> and
/// <see cref="Structural"/> each evaluate that folder's images together with all good images; <see cref="Mean"/> is
/// their average (the official "mean", the number LOCO tables quote); <see cref="All"/> evaluates every test image at
/// once (not in the official tool). Serialises with System.Text.Json (NaN needs
/// <c>JsonNumberHandling.AllowNamedFloatingPointLiterals</c>, as the results store sets).
/// </summary>
public sealed record LocoEvaluationResult(
    LocoScores Logical,
    LocoScores Structural,
    LocoScores Mean,
    LocoScores All,
    int GoodImages,
    int LogicalImages,
    int StructuralImages,
    IReadOnlyList<string> Warnings);

/// <summary>
/// The MVTec LOCO evaluation (evaluate_experiment.py: get_auc_spro_results and get_image_level_detection_metrics)
/// on in-memory maps (image by image: <see cref="LocoEvaluationBuilder"/>): AUC-sPRO at each FPR limit (default <see cref="SPro.LocoFprLimits"/>) and image AUROC, for
/// logical anomalies + good images, structural anomalies + good images, their mean, and all images together.
/// Deviations from the official tool (docs/metrics.md): every distinct score is a threshold (the tool samples them);
/// maps are resized to their ground truth (the tool requires equal sizes); image AUROC is computed from the given
/// image scores (the tool always takes each map's maximum: pass those to reproduce it) with ties counted half, as
/// sklearn does (the tool's curve skips points inside tied groups, which changes its AUROC when scores tie).
/// </summary>
public static class LocoEvaluation
{
    /// <param name="kinds">Each test image's folder.</param>
    /// <param name="groundTruth">Each image's ground truth; <see cref="LocoGroundTruth.Good"/> (at the image's size) for good images.</param>
    /// <param name="maps">Each image's anomaly map, resized to its ground truth when the sizes differ.</param>
    /// <param name="imageScores">Each image's anomaly score.</param>
    /// <param name="fprLimits">AUC-sPRO integration limits; default the official 0.01, 0.05, 0.1, 0.3, 1.0.</param>
    public static LocoEvaluationResult Run(IReadOnlyList<LocoImageKind> kinds, IReadOnlyList<LocoGroundTruth> groundTruth,
        IReadOnlyList<ScoreMap> maps, IReadOnlyList<float> imageScores, IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(imageScores);
        if (groundTruth.Count != kinds.Count || maps.Count != kinds.Count || imageScores.Count != kinds.Count)
            throw new ArgumentException($"{kinds.Count} kinds, {groundTruth.Count} ground truths, {maps.Count} maps and {imageScores.Count} scores; give one of each per test image.", nameof(kinds));
        using var builder = new LocoEvaluationBuilder();
        for (int i = 0; i < kinds.Count; i++) builder.Add(kinds[i], groundTruth[i], maps[i], imageScores[i]);
        return builder.Build(fprLimits);
    }
}
