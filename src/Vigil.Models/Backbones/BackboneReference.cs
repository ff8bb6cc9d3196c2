using System.Text.Json.Nodes;
using Vigil.Imaging;

namespace Vigil.Backbones;

/// <summary>
/// Which backbone a fitted detector needs: name, weight-file hash ("random" for seeded random weights, "" when the
/// extractor reports none), the layers it returns and its preprocessing. Stored in the model file; at load time a
/// resolver turns it back into an <see cref="IFeatureExtractor"/>.
/// </summary>
public sealed record BackboneReference(string Name, string WeightsSha256, IReadOnlyList<string> Layers, Preprocessing Preprocessing)
{
    public static BackboneReference Of(IFeatureExtractor extractor) => new(
        extractor.Name,
        extractor is IWeightsFingerprint { WeightsSha256.Length: > 0 } f ? f.WeightsSha256 : extractor.IsRandomlyInitialised ? "random" : "",
        extractor.Layers.ToArray(),
        extractor.Preprocessing);

    /// <summary>The network input after preprocessing, e.g. "resize 224x224" or "resize 256x256, crop 224x224" (recorded per cell).</summary>
    public string InputDescription
    {
        get
        {
            var p = Preprocessing;
            var resize = p.Mode == ResizeMode.ShortSide ? $"short side {p.ResizeHeight}" : $"resize {p.ResizeWidth}x{p.ResizeHeight}";
            var crop = p.CropHeight is int h && p.CropWidth is int w ? $", crop {w}x{h}" : "";
            var filters = p.Filter == ResizeFilter.Bilinear && p.MaskResize == MaskResize.Nearest ? "" : $", {p.Filter.ToString().ToLowerInvariant()}, masks {p.MaskResize.ToString().ToLowerInvariant()}";
            return resize + crop + filters;
        }
    }

    /// <summary>The weights were random (asked for explicitly): results of such a model are marked as not pretrained.</summary>
    public bool IsRandom => WeightsSha256.StartsWith("random", StringComparison.Ordinal);

    /// <summary>Throws a <see cref="VigilInputException"/> naming the first difference when the extractor is not this backbone.</summary>
    public void Verify(IFeatureExtractor extractor, string modelPath)
    {
        var actual = Of(extractor);
        string? difference =
            actual.Name != Name ? $"backbone '{actual.Name}' instead of '{Name}'"
            : WeightsSha256.Length > 0 && actual.WeightsSha256.Length > 0 && actual.WeightsSha256 != WeightsSha256
                ? $"weights {actual.WeightsSha256} instead of {WeightsSha256}"
            : !actual.Layers.SequenceEqual(Layers) ? $"layers {string.Join(",", actual.Layers)} instead of {string.Join(",", Layers)}"
            : !SamePreprocessing(actual.Preprocessing, Preprocessing) ? "a different preprocessing (resize, crop or normalisation)"
            : null;
        if (difference != null)
            throw new VigilInputException(
                $"Model '{modelPath}' was fitted with backbone '{Name}' (weights {WeightsSha256}, layers {string.Join(",", Layers)}), " +
                $"but the backbone opened now has {difference}. Give the weights it was fitted with (--weights), or train the model again.");
    }

    private static bool SamePreprocessing(Preprocessing a, Preprocessing b) =>
        a.ResizeHeight == b.ResizeHeight && a.ResizeWidth == b.ResizeWidth && a.CropHeight == b.CropHeight &&
        a.CropWidth == b.CropWidth && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std) &&
        a.Mode == b.Mode && a.Filter == b.Filter && a.MaskResize == b.MaskResize;

    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["weightsSha256"] = WeightsSha256,
        ["layers"] = new JsonArray(Layers.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
        ["preprocessing"] = new JsonObject
        {
            ["resizeHeight"] = Preprocessing.ResizeHeight,
            ["resizeWidth"] = Preprocessing.ResizeWidth,
            ["cropHeight"] = Preprocessing.CropHeight,
            ["cropWidth"] = Preprocessing.CropWidth,
            ["mean"] = new JsonArray(Preprocessing.Mean.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["std"] = new JsonArray(Preprocessing.Std.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["mode"] = Preprocessing.Mode.ToString(),
            ["filter"] = Preprocessing.Filter.ToString(),
            ["maskResize"] = Preprocessing.MaskResize.ToString(),
        },
    };

    /// <summary>The reference <see cref="ToJson"/> wrote; a missing or mistyped field throws (callers report a corrupt file).</summary>
    public static BackboneReference FromJson(JsonNode node)
    {
        var p = node["preprocessing"]!;
        var preprocessing = new Preprocessing((int)p["resizeHeight"]!, (int)p["resizeWidth"]!, (int?)p["cropHeight"], (int?)p["cropWidth"],
            p["mean"]!.AsArray().Select(v => (float)v!).ToArray(), p["std"]!.AsArray().Select(v => (float)v!).ToArray())
        {
            Mode = Enum.Parse<ResizeMode>((string)p["mode"]!),
            Filter = Enum.Parse<ResizeFilter>((string)p["filter"]!),
            MaskResize = Enum.Parse<MaskResize>((string)p["maskResize"]!),
        };
        return new BackboneReference((string)node["name"]!, (string)node["weightsSha256"]!,
            node["layers"]!.AsArray().Select(v => (string)v!).ToArray(), preprocessing);
    }
}
