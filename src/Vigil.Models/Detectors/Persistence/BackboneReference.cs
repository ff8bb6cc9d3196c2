using Vigil.Backbones;
using Vigil.Imaging;

namespace Vigil.Detectors;

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
                $"but the resolver supplied {difference}. Supply the backbone the model was fitted with, or refit the model.");
    }

    private static bool SamePreprocessing(Preprocessing a, Preprocessing b) =>
        a.ResizeHeight == b.ResizeHeight && a.ResizeWidth == b.ResizeWidth && a.CropHeight == b.CropHeight &&
        a.CropWidth == b.CropWidth && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);
}
