using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>Normalised AUC-sPRO per FPR integration limit.</summary>
public sealed record SProResult(IReadOnlyDictionary<double, double> AucSpro);

/// <summary>
/// Saturated per-region overlap (MVTec LOCO AD). Definition of the official evaluation code (src/metrics.py,
/// src/aggregation.py, src/util.py): a pixel is positive when score &gt; threshold; per channel sPRO =
/// min(TP area / saturation area, 1); the curve's y is the mean sPRO over all channels of all images; FPR = positive
/// pixels outside every channel / pixels outside every channel, over all images (good images included); the AUC is
/// util.trapz up to the limit with y interpolated there, divided by the limit.
/// The official tool samples thresholds adaptively (curve_max_distance); Vigil uses every distinct score, the exact
/// curve the sampling approximates.
/// </summary>
public static class SPro
{
    /// <summary>The integration limits the official LOCO evaluation reports.</summary>
    public static IReadOnlyList<double> LocoFprLimits { get; } = [0.01, 0.05, 0.1, 0.3, 1.0];

    /// <summary>Anomaly maps whose size differs from their ground truth are resized bilinearly to it.</summary>
    public static SProResult Compute(IReadOnlyList<ScoreMap> maps, IReadOnlyList<LocoGroundTruth> groundTruth,
        IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        return Compute(maps, groundTruth, [Enumerable.Range(0, maps.Count).ToArray()], fprLimits)[0];
    }

    /// <summary>
    /// The sPRO of several groups of the same test images (e.g. LOCO's logical + good, structural + good, all) from one
    /// sort of their pixels: each group's curve uses only its own images' channels and anomaly-free pixels, exactly as
    /// if it were computed alone. Images in no group are not read. At most 32 groups. The pixels go image by image
    /// through a <see cref="SProBuilder"/> (on disk), which also takes test sets whose maps are not held together.
    /// </summary>
    /// <param name="groups">Each group's image indices into <paramref name="maps"/>.</param>
    public static IReadOnlyList<SProResult> Compute(IReadOnlyList<ScoreMap> maps, IReadOnlyList<LocoGroundTruth> groundTruth,
        IReadOnlyList<IReadOnlyList<int>> groups, IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(groups);
        if (maps.Count != groundTruth.Count)
            throw new ArgumentException($"{maps.Count} anomaly maps but {groundTruth.Count} ground truths; give one per test image (LocoGroundTruth.Good for good images).", nameof(groundTruth));
        if (maps.Count == 0)
            throw new ArgumentException("No anomaly maps given; sPRO needs test images.", nameof(maps));
        if (groups.Count is 0 or > 32)
            throw new ArgumentException($"{groups.Count} groups given; sPRO takes 1 to 32 groups of test images.", nameof(groups));
        var imageGroups = new uint[maps.Count]; // bit g: the image is in group g
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g].Count == 0) throw new ArgumentException($"Group {g} has no test image.", nameof(groups));
            foreach (int i in groups[g])
            {
                if ((uint)i >= (uint)maps.Count) throw new ArgumentOutOfRangeException(nameof(groups), i, $"Group {g} names image {i}; there are {maps.Count}.");
                imageGroups[i] |= 1u << g;
            }
        }
        using var builder = new SProBuilder(groups.Count);
        for (int i = 0; i < maps.Count; i++) builder.Add(maps[i], groundTruth[i], imageGroups[i]);
        return builder.Compute(fprLimits: fprLimits);
    }
}
