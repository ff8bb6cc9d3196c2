using Vigil.Data;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;

namespace Vigil.Reporting;

/// <summary>
/// Makes what a report shows of a cell beyond its numbers, while the anomaly maps are still in memory: overlays of
/// the k most telling test images per <see cref="OverlayRole"/> (PNG bytes, stored with the cell), and the pixel ROC
/// and PRO curves (thinned, see <see cref="Curve.DefaultStep"/>) in the <see cref="CellArtifactIndex"/>.
/// </summary>
public static class CellArtifacts
{
    public const int DefaultPerRole = 3;

    /// <summary>
    /// Overlays are scaled to this height: down (area average) so a report can show many, up (nearest neighbour, the
    /// image's own pixels) so the outline of a small image does not cover its defect.
    /// </summary>
    public const int OverlayHeight = 256;

    /// <summary>
    /// A very wide image (a line-scan strip) is scaled to this width instead, so its overlay stays a few hundred
    /// kilobytes rather than tens of megabytes per image in the store.
    /// </summary>
    public const int OverlayMaxWidth = 1024;

    /// <summary>
    /// The test image at overlay size. A cell keeps this small copy of every test image while it scores them, so each
    /// image is decoded once per cell and the overlays need no second read.
    /// </summary>
    public static ImageTensor Thumbnail(ImageTensor image)
    {
        double scale = Math.Min((double)OverlayHeight / image.Height, (double)OverlayMaxWidth / image.Width);
        int height = Math.Max(1, (int)Math.Round(image.Height * scale)), width = Math.Max(1, (int)Math.Round(image.Width * scale));
        return ImageOps.Resize(image, height, width, scale > 1 ? Interpolation.Nearest : Interpolation.Area);
    }

    /// <summary>
    /// A map and mask at <paramref name="thumbnail"/>'s size, as the overlays draw them: what a cell keeps of each test
    /// image's full-resolution map and mask for <see cref="Create"/> (which then needs the full maps' range).
    /// </summary>
    public static (ScoreMap Map, BinaryMask Mask) Shrink(ScoreMap map, BinaryMask mask, ImageTensor thumbnail)
    {
        int h = thumbnail.Height, w = thumbnail.Width;
        return (map.Height == h && map.Width == w ? map : map.Resize(h, w), ImageOps.Resize(mask, h, w));
    }

    /// <summary>
    /// The artifacts of one cell: the index and the overlay PNGs by the names the index gives them.
    /// <paramref name="thumbnails"/> are the test images made by <see cref="Thumbnail"/>; <paramref name="pixels"/> the
    /// cell's sorted pixels (from <see cref="Evaluation.Run(IReadOnlyList{float}, IReadOnlyList{bool}, IReadOnlyList{ScoreMap}, IReadOnlyList{BinaryMask}, EvaluationOptions?, out PixelScores)"/>
    /// or <see cref="PixelScoresBuilder"/>). <paramref name="maps"/> and <paramref name="masks"/> may be full size or
    /// <see cref="Shrink"/>ed; then <paramref name="mapRange"/> must give the full maps' range (null: the range of <paramref name="maps"/>).
    /// </summary>
    public static (CellArtifactIndex Index, IReadOnlyDictionary<string, byte[]> Files) Create(IReadOnlyList<Sample> test, IReadOnlyList<float> scores,
        IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks, IReadOnlyList<ImageTensor> thumbnails, PixelScores pixels, double proFprLimit,
        int perRole = DefaultPerRole, (float Min, float Max)? mapRange = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (test.Count != scores.Count || test.Count != maps.Count || test.Count != masks.Count || test.Count != thumbnails.Count)
            throw new ArgumentException($"{test.Count} test samples, {scores.Count} scores, {maps.Count} maps, {masks.Count} masks and {thumbnails.Count} thumbnails; give one of each per test image.", nameof(test));
        ArgumentOutOfRangeException.ThrowIfNegative(perRole);

        bool curvesDefined = pixels.AnomalousPixels > 0 && pixels.NormalPixels > 0;
        var roc = curvesDefined ? pixels.RocCurve() : null;
        var pro = curvesDefined ? pixels.ProCurve(proFprLimit) : null;

        var (min, max) = mapRange ?? (float.PositiveInfinity, float.NegativeInfinity);
        if (mapRange is null)
            foreach (var map in maps)
                foreach (float v in map.Data) { min = Math.Min(min, v); max = Math.Max(max, v); }

        var files = new Dictionary<string, byte[]>();
        var overlays = new List<OverlayImage>();
        foreach (var (role, indices) in Pick(test, scores, perRole))
            for (int rank = 1; rank <= indices.Count; rank++)
            {
                int i = indices[rank - 1];
                var file = $"overlays/{FileStem(role)}-{rank}.png";
                files[file] = Draw(thumbnails[i], maps[i], masks[i], min, max);
                overlays.Add(new OverlayImage(file, role, rank, test[i].SourcePath, test[i].DefectType, test[i].IsAnomalous, scores[i]));
            }
        return (new CellArtifactIndex(proFprLimit, roc, pro, min, max, overlays), files);
    }

    /// <summary>
    /// The test images shown per role, most extreme first; equal scores keep test order, so the choice is
    /// deterministic. A missed anomaly is never also a top anomaly (few anomalous images).
    /// </summary>
    public static IReadOnlyList<(OverlayRole Role, IReadOnlyList<int> Indices)> Pick(IReadOnlyList<Sample> test, IReadOnlyList<float> scores, int perRole)
    {
        var anomalous = Enumerable.Range(0, test.Count).Where(i => test[i].IsAnomalous).OrderByDescending(i => scores[i]).ToList();
        var top = anomalous.Take(perRole).ToList();
        var missed = Enumerable.Range(0, test.Count).Where(i => test[i].IsAnomalous).OrderBy(i => scores[i])
            .Where(i => !top.Contains(i)).Take(perRole).ToList();
        var falseAlarms = Enumerable.Range(0, test.Count).Where(i => !test[i].IsAnomalous).OrderByDescending(i => scores[i]).Take(perRole).ToList();
        return [(OverlayRole.TopAnomaly, top), (OverlayRole.MissedAnomaly, missed), (OverlayRole.FalseAlarm, falseAlarms)];
    }

    private static string FileStem(OverlayRole role) => role switch
    {
        OverlayRole.TopAnomaly => "top-anomaly",
        OverlayRole.MissedAnomaly => "missed-anomaly",
        _ => "false-alarm",
    };

    /// <summary>[thumbnail | thumbnail blended with the jet-coloured map] side by side, the ground-truth outline on both.</summary>
    private static byte[] Draw(ImageTensor thumbnail, ScoreMap map, BinaryMask mask, float min, float max)
    {
        var (scaledMap, scaledMask) = Shrink(map, mask, thumbnail);
        return ImageIO.EncodePng(Heatmap.SideBySide(Heatmap.Outline(thumbnail, scaledMask), Heatmap.Overlay(thumbnail, scaledMap, min, max, scaledMask)));
    }
}
