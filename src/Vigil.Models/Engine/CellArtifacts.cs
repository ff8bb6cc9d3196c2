using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenCvSharp;
using Vigil.Data;
using Vigil.Imaging;
using Vigil.Metrics;

using Vigil.Results;

namespace Vigil.Engine;

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
/// <param name="File">Path of the PNG relative to the artifacts folder.</param>
/// <param name="Rank">1 = the most extreme image of its role.</param>
public sealed record OverlayImage(string File, OverlayRole Role, int Rank, string SourcePath, string DefectType, bool Anomalous, float Score);

/// <summary>
/// The index of a cell's artifacts folder (<see cref="CellArtifacts.IndexFile"/>): the overlays, and the pixel ROC
/// and PRO curves made by the same sweep as the cell's metrics (null when the data cannot define them, e.g. no
/// defective pixel). <see cref="MapMin"/>..<see cref="MapMax"/> is the score range the overlays' colours span,
/// one range for the whole cell so overlays of one cell compare.
/// </summary>
public sealed record CellArtifactIndex(
    double ProFprLimit,
    Curve? PixelRoc,
    Curve? Pro,
    float MapMin,
    float MapMax,
    IReadOnlyList<OverlayImage> Overlays);

/// <summary>
/// Writes what a report shows of a cell beyond its numbers, while the anomaly maps are still in memory: overlays of
/// the k most telling test images per <see cref="OverlayRole"/>, and the pixel ROC and PRO curves (thinned, see
/// <see cref="Curve.DefaultStep"/>) in <see cref="IndexFile"/>.
/// </summary>
public static class CellArtifacts
{
    public const string IndexFile = "artifacts.json";
    public const int DefaultPerRole = 3;

    /// <summary>
    /// Overlays are scaled to this height: down (area average) so a report can show many, up (nearest neighbour, the
    /// image's own pixels) so the outline of a small image does not cover its defect.
    /// </summary>
    public const int OverlayHeight = 256;

    private const string OverlayFolder = "overlays";

    /// <summary>
    /// Writes the artifacts of one cell into <paramref name="directory"/> (created; earlier overlays there are
    /// replaced) and returns their index. <paramref name="pixels"/> are the cell's sorted pixels
    /// (<see cref="Evaluation.Run(IReadOnlyList{float}, IReadOnlyList{bool}, IReadOnlyList{ScoreMap}, IReadOnlyList{BinaryMask}, EvaluationOptions?, out PixelScores)"/>).
    /// The index is written last, so a crash never leaves an index that names missing overlays.
    /// </summary>
    public static CellArtifactIndex Write(string directory, IReadOnlyList<Sample> test, IReadOnlyList<float> scores,
        IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks, PixelScores pixels, double proFprLimit,
        int perRole = DefaultPerRole)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (test.Count != scores.Count || test.Count != maps.Count || test.Count != masks.Count)
            throw new ArgumentException($"{test.Count} test samples, {scores.Count} scores, {maps.Count} maps and {masks.Count} masks; give one of each per test image.", nameof(test));
        ArgumentOutOfRangeException.ThrowIfNegative(perRole);

        bool curvesDefined = pixels.AnomalousPixels > 0 && pixels.NormalPixels > 0;
        var roc = curvesDefined ? pixels.RocCurve() : null;
        var pro = curvesDefined ? pixels.ProCurve(proFprLimit) : null;

        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var map in maps)
            foreach (float v in map.Data) { min = Math.Min(min, v); max = Math.Max(max, v); }

        var overlayDirectory = Path.Combine(directory, OverlayFolder);
        if (Directory.Exists(overlayDirectory)) Directory.Delete(overlayDirectory, recursive: true);
        Directory.CreateDirectory(overlayDirectory);
        var overlays = new List<OverlayImage>();
        foreach (var (role, indices) in Pick(test, scores, perRole))
            for (int rank = 1; rank <= indices.Count; rank++)
            {
                int i = indices[rank - 1];
                var file = $"{OverlayFolder}/{FileStem(role)}-{rank}.png";
                var image = test[i].LoadImage();
                Draw(image, maps[i], masks[i], min, max, Path.Combine(directory, file));
                overlays.Add(new OverlayImage(file, role, rank, test[i].SourcePath, test[i].DefectType, test[i].IsAnomalous, scores[i]));
            }

        var index = new CellArtifactIndex(proFprLimit, roc, pro, min, max, overlays);
        var path = Path.Combine(directory, IndexFile);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(index, ResultsStore.Json));
        File.Move(path + ".tmp", path, overwrite: true);
        return index;
    }

    /// <summary>
    /// The artifacts folder of a cell under a run's output folder: named after the cell and a hash of its key and
    /// configuration, so cells of different configurations never share one.
    /// </summary>
    public static string DirectoryFor(string outputDirectory, CellKey key, string configuration)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{configuration}")))[..12];
        var safe = string.Join("_", new[] { key.Model, key.Dataset, key.Category, key.Setting, $"seed{key.Seed}" }
            .Select(p => string.Concat(p.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '-'))));
        return Path.GetFullPath(Path.Combine(outputDirectory, "artifacts", $"{safe}_{hash}"));
    }

    /// <summary>Reads the index of an artifacts folder; a missing or unreadable index is a <see cref="VigilInputException"/> naming the file.</summary>
    public static CellArtifactIndex Read(string directory)
    {
        var path = Path.Combine(directory, IndexFile);
        if (!File.Exists(path))
            throw new VigilInputException($"Cell artifacts {path} do not exist; rerun the cell with an artifacts folder to get overlays and pixel curves.");
        try
        {
            return JsonSerializer.Deserialize<CellArtifactIndex>(File.ReadAllText(path), ResultsStore.Json)
                   ?? throw new VigilInputException($"Cell artifacts {path} hold no index (JSON null); rerun the cell.");
        }
        catch (JsonException e)
        {
            throw new VigilInputException($"Cell artifacts {path} are not a valid index ({e.Message}); rerun the cell.", e);
        }
    }

    /// <summary>
    /// The test images shown per role, most extreme first; equal scores keep test order, so the choice is
    /// deterministic. A missed anomaly is never also a top anomaly (few anomalous images).
    /// </summary>
    internal static IReadOnlyList<(OverlayRole Role, IReadOnlyList<int> Indices)> Pick(IReadOnlyList<Sample> test, IReadOnlyList<float> scores, int perRole)
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

    /// <summary>
    /// [image | image blended half with the jet-coloured map] side by side, the ground-truth outline on both in white
    /// over a black halo, which stands out on every jet colour and on light or dark images.
    /// </summary>
    private static void Draw(ImageTensor image, ScoreMap map, BinaryMask mask, float min, float max, string path)
    {
        int height = OverlayHeight;
        int width = Math.Max(1, (int)Math.Round((double)image.Width * height / image.Height));
        var scaled = ImageOps.Resize(image, height, width, height > image.Height ? Interpolation.Nearest : Interpolation.Area);
        var scaledMap = map.Height == height && map.Width == width ? map : map.Resize(height, width);
        var scaledMask = ImageOps.Resize(mask, height, width);

        using var picture = ToBgr(scaled);
        var range = max > min ? max - min : 1f;
        var levels = Array.ConvertAll(scaledMap.Data, v => (byte)Math.Clamp(Math.Round((v - min) / range * 255), 0, 255));
        using var level = Mat.FromPixelData(height, width, MatType.CV_8UC1, levels);
        using var heat = new Mat();
        Cv2.ApplyColorMap(level, heat, ColormapTypes.Jet);
        using var blended = new Mat();
        Cv2.AddWeighted(picture, 0.5, heat, 0.5, 0, blended);

        using var maskMat = Mat.FromPixelData(height, width, MatType.CV_8UC1, Array.ConvertAll(scaledMask.Data, v => v ? (byte)255 : (byte)0));
        Cv2.FindContours(maskMat, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxNone);
        foreach (var panel in new[] { picture, blended })
        {
            Cv2.DrawContours(panel, contours, -1, Scalar.Black, 3);
            Cv2.DrawContours(panel, contours, -1, Scalar.White, 1);
        }
        using var both = new Mat();
        Cv2.HConcat([picture, blended], both);
        if (!Cv2.ImWrite(path, both))
            throw new VigilInputException($"Could not write overlay '{path}': check that the folder is writable.");
    }

    private static Mat ToBgr(ImageTensor image)
    {
        int plane = image.Height * image.Width;
        var bytes = new byte[plane * 3];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
            {
                int source = image.Channels == 1 ? 0 : 2 - c; // RGB planes → BGR interleaved; gray repeats
                bytes[p * 3 + c] = (byte)Math.Clamp(Math.Round(image.Data[source * plane + p] * 255), 0, 255);
            }
        return Mat.FromPixelData(image.Height, image.Width, MatType.CV_8UC3, bytes);
    }
}
