using Vigil.Imaging;

namespace Vigil.Backbones;

/// <summary>
/// Input geometry and batching of a feature extractor. Normalisation is not an option: it is fixed by the backbone's
/// training (e.g. ImageNet mean/std on RGB), so images cannot be fed wrongly normalised.
/// </summary>
public sealed record FeatureExtractorOptions
{
    /// <summary>Images are resized to Resize × Resize (<see cref="ResizeMode.Stretch"/>) or their short side to Resize (<see cref="ResizeMode.ShortSide"/>).</summary>
    public int Resize { get; init; } = 256;

    /// <summary>Optional centre crop after the resize (e.g. 224); null keeps the whole resized image. Required for <see cref="ResizeMode.ShortSide"/>.</summary>
    public int? Crop { get; init; }

    /// <summary>Stretch (default) or torchvision's aspect-keeping short-side resize.</summary>
    public ResizeMode Mode { get; init; } = ResizeMode.Stretch;

    /// <summary>Image resampling filter (default: OpenCV bilinear, no anti-aliasing).</summary>
    public ResizeFilter Filter { get; init; } = ResizeFilter.Bilinear;

    /// <summary>How masks follow the geometry (default: OpenCV nearest).</summary>
    public MaskResize MaskResize { get; init; } = MaskResize.Nearest;

    /// <summary>Images per forward pass; bounds memory, not results.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>This geometry with the backbone's normalisation (ImageNet mean/std when not given).</summary>
    public Preprocessing Preprocessing(IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null) =>
        new(Resize, Resize, Crop, Crop, mean, std) { Mode = Mode, Filter = Filter, MaskResize = MaskResize };
}
