using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>
/// The MVTec LOCO evaluation (<see cref="LocoEvaluation"/>) made image by image: each test image's map goes into an
/// <see cref="SProBuilder"/> (on disk) as it is scored, so the test set's full-resolution maps are never held together.
/// The three groups (logical + good, structural + good, all) share the pixels and are evaluated from one merge.
/// Dispose it to delete the file.
/// </summary>
public sealed class LocoEvaluationBuilder : IDisposable
{
    private const uint LogicalGroup = 1, StructuralGroup = 2, AllGroup = 4;
    private readonly SProBuilder _spro;
    private readonly List<LocoImageKind> _kinds = [];
    private readonly List<float> _scores = [];

    /// <summary>The file goes into <paramref name="tempFolder"/> (default: the system's temporary folder).</summary>
    public LocoEvaluationBuilder(string? tempFolder = null) => _spro = new SProBuilder(3, tempFolder);

    /// <summary>
    /// The next test image: its folder, its ground truth (<see cref="LocoGroundTruth.Good"/> at the image's size for a
    /// good image), its anomaly map (resized to the ground truth when the sizes differ) and its image score.
    /// </summary>
    public void Add(LocoImageKind kind, LocoGroundTruth groundTruth, ScoreMap map, float imageScore)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        int i = _kinds.Count;
        bool isGood = kind == LocoImageKind.Good, hasDefects = groundTruth.Channels.Count > 0;
        if (isGood && hasDefects)
            throw new ArgumentException($"Test image #{i} is good but its ground truth has {groundTruth.Channels.Count} defect channel(s).", nameof(groundTruth));
        if (!isGood && !hasDefects)
            throw new ArgumentException($"Test image #{i} is a {kind} anomaly but its ground truth has no defect channel.", nameof(groundTruth));
        if (!float.IsFinite(imageScore))
            throw new VigilInputException($"Image score #{i} is {imageScore}; metrics need finite scores. Check the detector output for that image.");
        _spro.Add(map, groundTruth, kind switch
        {
            LocoImageKind.Good => LogicalGroup | StructuralGroup | AllGroup,
            LocoImageKind.Logical => LogicalGroup | AllGroup,
            _ => StructuralGroup | AllGroup,
        });
        _kinds.Add(kind);
        _scores.Add(imageScore);
    }

    /// <summary>The evaluation of the images added, at each FPR limit (default <see cref="SPro.LocoFprLimits"/>).</summary>
    public LocoEvaluationResult Build(IReadOnlyList<double>? fprLimits = null)
    {
        var limits = (fprLimits ?? SPro.LocoFprLimits).Distinct().ToArray();
        var warnings = new List<string>();
        int good = _kinds.Count(k => k == LocoImageKind.Good);
        int logical = _kinds.Count(k => k == LocoImageKind.Logical);
        int structural = _kinds.Count(k => k == LocoImageKind.Structural);
        if (good == 0) warnings.Add("No good test image: image AUROC is NaN.");

        // Each group is its anomalies plus every good image (Only = null: all anomalies); group g is bit g of Add's membership.
        var groups = new (string Name, int Count, LocoImageKind? Only)[]
        {
            ("logical", logical, LocoImageKind.Logical), ("structural", structural, LocoImageKind.Structural), ("anomalous", logical + structural, null),
        };
        var members = groups.Select(g => Enumerable.Range(0, _kinds.Count)
            .Where(i => _kinds[i] == LocoImageKind.Good || g.Only is null || _kinds[i] == g.Only).ToArray()).ToArray();
        var defined = Enumerable.Range(0, groups.Length).Where(g => groups[g].Count > 0).ToArray();
        var spros = defined.Length == 0 ? [] : _spro.Compute(defined, limits);
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
                : ImageScores.Auroc(members[g].Select(i => _scores[i]).ToArray(), members[g].Select(i => _kinds[i] != LocoImageKind.Good).ToArray());
            scores[g] = new LocoScores(auroc, spros[slot].AucSpro);
        }
        var (logicalScores, structuralScores, all) = (scores[0], scores[1], scores[2]);
        var mean = new LocoScores(0.5 * (logicalScores.ImageAuroc + structuralScores.ImageAuroc),
            limits.ToDictionary(l => l, l => 0.5 * (logicalScores.AucSpro[l] + structuralScores.AucSpro[l])));
        return new LocoEvaluationResult(logicalScores, structuralScores, mean, all, good, logical, structural, warnings);
    }

    /// <summary>Deletes the file.</summary>
    public void Dispose() => _spro.Dispose();
}
