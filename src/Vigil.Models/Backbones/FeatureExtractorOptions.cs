namespace Vigil.Backbones;

/// <summary>
/// Input geometry and batching of a feature extractor. Normalisation is not an option: it is fixed by the backbone's
/// training (ImageNet mean/std on RGB), so images cannot be fed wrongly normalised.
/// </summary>
public sealed record FeatureExtractorOptions
{
    /// <summary>Images are resized to Resize × Resize (bilinear) before the network.</summary>
    public int Resize { get; init; } = 256;

    /// <summary>Optional centre crop after the resize (e.g. 224); null keeps the whole resized image.</summary>
    public int? Crop { get; init; }

    /// <summary>Images per forward pass; bounds memory, not results.</summary>
    public int BatchSize { get; init; } = 8;
}
