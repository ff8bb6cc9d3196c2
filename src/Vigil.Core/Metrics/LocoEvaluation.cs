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
/// on in-memory maps: AUC-sPRO at each FPR limit (default <see cref="SPro.LocoFprLimits"/>) and image AUROC, for
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
        for (int i = 0; i < kinds.Count; i++)
        {
            bool isGood = kinds[i] == LocoImageKind.Good, hasDefects = groundTruth[i].Channels.Count > 0;
            if (isGood && hasDefects)
                throw new ArgumentException($"Test image #{i} is good but its ground truth has {groundTruth[i].Channels.Count} defect channel(s).", nameof(groundTruth));
            if (!isGood && !hasDefects)
                throw new ArgumentException($"Test image #{i} is a {kinds[i]} anomaly but its ground truth has no defect channel.", nameof(groundTruth));
            if (!float.IsFinite(imageScores[i]))
                throw new VigilInputException($"Image score #{i} is {imageScores[i]}; metrics need finite scores. Check the detector output for that image.");
        }
        var limits = (fprLimits ?? SPro.LocoFprLimits).Distinct().ToArray();
        var warnings = new List<string>();
        int good = kinds.Count(k => k == LocoImageKind.Good);
        int logical = kinds.Count(k => k == LocoImageKind.Logical);
        int structural = kinds.Count(k => k == LocoImageKind.Structural);
        if (good == 0) warnings.Add("No good test image: image AUROC is NaN.");

        // Each group is its anomalies plus every good image (Only = null: all anomalies). The groups share pixels,
        // so one sPRO pass sorts every pixel once for all of them.
        var groups = new (string Name, int Count, LocoImageKind? Only)[]
        {
            ("logical", logical, LocoImageKind.Logical), ("structural", structural, LocoImageKind.Structural), ("anomalous", logical + structural, null),
        };
        var members = groups.Select(g => Enumerable.Range(0, kinds.Count)
            .Where(i => kinds[i] == LocoImageKind.Good || g.Only is null || kinds[i] == g.Only).ToArray()).ToArray();
        var defined = Enumerable.Range(0, groups.Length).Where(g => groups[g].Count > 0).ToArray();
        var spros = defined.Length == 0 ? []
            : SPro.Compute(maps, groundTruth, defined.Select(g => (IReadOnlyList<int>)members[g]).ToArray(), limits);
        var scores = new LocoScores[groups.Length];
        for (int g = 0; g < groups.Length; g++)
        {
            int slot = Array.IndexOf(defined, g);
            if (slot < 0)
            {
                warnings.Add($"No {groups[g].Name} test image: its image AUROC and AUC-sPRO are NaN.");
                scores[g] = new LocoScores(double.NaN, limits.ToDictionary(l => l, _ => double.NaN));
                continue;
            }
            double auroc = good == 0 ? double.NaN
                : ImageScores.Auroc(members[g].Select(i => imageScores[i]).ToArray(), members[g].Select(i => kinds[i] != LocoImageKind.Good).ToArray());
            scores[g] = new LocoScores(auroc, spros[slot].AucSpro);
        }
        var (logicalScores, structuralScores, all) = (scores[0], scores[1], scores[2]);
        var mean = new LocoScores(0.5 * (logicalScores.ImageAuroc + structuralScores.ImageAuroc),
            limits.ToDictionary(l => l, l => 0.5 * (logicalScores.AucSpro[l] + structuralScores.AucSpro[l])));
        return new LocoEvaluationResult(logicalScores, structuralScores, mean, all, good, logical, structural, warnings);
    }
}
