using Vigil.Metrics;

namespace Vigil.Records;

/// <summary>Why a test image was picked for an overlay.</summary>
public enum OverlayRole
{
    /// <summary>An anomalous image among the highest scored: a found defect, to check the map points at it.</summary>
    TopAnomaly,
    /// <summary>An anomalous image among the lowest scored: a missed defect.</summary>
    MissedAnomaly,
    /// <summary>A good image among the highest scored: a false alarm.</summary>
    FalseAlarm,
}

/// <summary>One overlay PNG: the test image beside its anomaly map (jet) over it, ground-truth contours on both.</summary>
/// <param name="File">Name of the PNG among the cell's artifact files (e.g. "overlays/top-anomaly-1.png").</param>
/// <param name="Rank">1 = the most extreme image of its role.</param>
public sealed record OverlayImage(string File, OverlayRole Role, int Rank, string SourcePath, string DefectType, bool Anomalous, float Score);

/// <summary>
/// What a report shows of a cell beyond its numbers: the overlays, and the pixel ROC and PRO curves made by the same
/// sweep as the cell's metrics (null when the data cannot define them, e.g. no defective pixel).
/// <see cref="MapMin"/>..<see cref="MapMax"/> is the score range the overlays' colours span, one range for the whole
/// cell so overlays of one cell compare.
/// </summary>
public sealed record CellArtifactIndex(
    double ProFprLimit,
    Curve? PixelRoc,
    Curve? Pro,
    float MapMin,
    float MapMax,
    IReadOnlyList<OverlayImage> Overlays);
