using System.Text.Json;
using OpenCvSharp;
using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>One entry of MVTec LOCO's defects_config.json.</summary>
public sealed record LocoDefectConfig(string DefectName, int PixelValue, double SaturationThreshold, bool RelativeSaturation)
{
    /// <summary>
    /// Overlap area at which a defect counts as fully found (the official GroundTruthChannel.get_saturation_area):
    /// relative → int(threshold · area) (truncated), absolute → min(threshold, area).
    /// </summary>
    public long SaturationArea(long defectArea) =>
        RelativeSaturation ? (long)(SaturationThreshold * defectArea) : Math.Min((long)SaturationThreshold, defectArea);
}

/// <summary>One ground-truth channel (one defect instance) of a LOCO test image.</summary>
public sealed record LocoDefectChannel(BinaryMask Mask, LocoDefectConfig Defect);

/// <summary>The ground truth of one LOCO test image: its size and its defect channels (none for a good image).</summary>
public sealed record LocoGroundTruth(int Height, int Width, IReadOnlyList<LocoDefectChannel> Channels)
{
    public static LocoGroundTruth Good(int height, int width) => new(height, width, []);
}

/// <summary>The defects of one MVTec LOCO category, read from its defects_config.json.</summary>
public sealed class LocoDefectsConfig
{
    private readonly Dictionary<int, LocoDefectConfig> _byPixelValue;

    /// <param name="defects">The defect entries.</param>
    /// <param name="source">Where they were read from, named in error messages (the file path when loaded from disk).</param>
    public LocoDefectsConfig(IEnumerable<LocoDefectConfig> defects, string source = "defects_config.json")
    {
        _byPixelValue = [];
        foreach (var d in defects) _byPixelValue[d.PixelValue] = d;
        Source = source;
    }

    public IReadOnlyCollection<LocoDefectConfig> Defects => _byPixelValue.Values;

    /// <summary>The config file (or other source) the entries came from.</summary>
    public string Source { get; }

    public static LocoDefectsConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new VigilInputException($"Defects config {path} does not exist; MVTec LOCO has one per category (<category>/defects_config.json).");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses the JSON list; <paramref name="source"/> names the file in error messages.</summary>
    public static LocoDefectsConfig Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new VigilInputException($"{source} is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new VigilInputException($"{source} must hold a JSON list of defect entries.");
            var defects = new List<LocoDefectConfig>();
            int index = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                string where = $"{source}, entry {index++}";
                try
                {
                    string name = e.GetProperty("defect_name").GetString() ?? throw new VigilInputException($"{where}: defect_name is null.");
                    int pixelValue = e.GetProperty("pixel_value").GetInt32();
                    var threshold = e.GetProperty("saturation_threshold");
                    bool relative = e.GetProperty("relative_saturation").GetBoolean();
                    if (pixelValue is < 1 or > 255)
                        throw new VigilInputException($"{where} ({name}): pixel_value {pixelValue} must be in 1..255.");
                    double t = threshold.GetDouble();
                    if (relative && !(t > 0 && t <= 1))
                        throw new VigilInputException($"{where} ({name}): a relative saturation_threshold must be in (0, 1], got {t}.");
                    if (!relative && (!threshold.TryGetInt64(out long abs) || abs < 1))
                        throw new VigilInputException($"{where} ({name}): an absolute saturation_threshold must be a positive whole pixel count, got {threshold.GetRawText()}.");
                    defects.Add(new LocoDefectConfig(name, pixelValue, t, relative));
                }
                catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new VigilInputException($"{where}: needs defect_name (string), pixel_value (int), saturation_threshold (number) and relative_saturation (bool). {ex.Message}", ex);
                }
            }
            return new LocoDefectsConfig(defects, source);
        }
    }

    /// <summary>A channel from an 8-bit image holding 0 and exactly one defect pixel value.</summary>
    public LocoDefectChannel ChannelFromPixelValues(int height, int width, ReadOnlySpan<byte> values, string source)
    {
        int defectValue = 0;
        var mask = new BinaryMask(height, width);
        for (int i = 0; i < values.Length; i++)
        {
            byte v = values[i];
            if (v == 0) continue;
            if (defectValue != 0 && v != defectValue)
                throw new VigilInputException($"{source} holds the pixel values {defectValue} and {v}; a LOCO ground-truth channel has exactly one defect value.");
            defectValue = v;
            mask.Data[i] = true;
        }
        if (defectValue == 0)
            throw new VigilInputException($"{source} has no defect pixel; a LOCO ground-truth channel must mark one defect.");
        if (!_byPixelValue.TryGetValue(defectValue, out var defect))
            throw new VigilInputException(
                $"{source} uses pixel value {defectValue}, which {Source} does not list (it lists {string.Join(", ", _byPixelValue.Keys.Order())}). Fix the mask or add its defect to the config.");
        return new LocoDefectChannel(mask, defect);
    }

    /// <summary>Reads a LOCO ground-truth directory (ground_truth/&lt;type&gt;/&lt;id&gt;/000.png, 001.png, ...): one channel per PNG.</summary>
    public LocoGroundTruth ReadGroundTruth(string imageDirectory)
    {
        if (!Directory.Exists(imageDirectory))
            throw new VigilInputException($"Ground-truth directory {imageDirectory} does not exist.");
        var files = Directory.GetFiles(imageDirectory, "*.png").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new VigilInputException($"Ground-truth directory {imageDirectory} holds no .png channel.");
        var channels = new List<LocoDefectChannel>();
        int h = 0, w = 0;
        foreach (var file in files)
        {
            using var mat = Cv2.ImRead(file, ImreadModes.Unchanged);
            if (mat.Empty() || mat.Type() != MatType.CV_8UC1)
                throw new VigilInputException($"{file} is not a readable 8-bit single-channel PNG.");
            if (channels.Count > 0 && (mat.Rows != h || mat.Cols != w))
                throw new VigilInputException($"{file} is {mat.Rows}x{mat.Cols} but the other channels are {h}x{w}.");
            (h, w) = (mat.Rows, mat.Cols);
            var bytes = new byte[h * w];
            mat.GetArray(out byte[] data);
            data.CopyTo(bytes, 0);
            channels.Add(ChannelFromPixelValues(h, w, bytes, file));
        }
        return new LocoGroundTruth(h, w, channels);
    }
}
