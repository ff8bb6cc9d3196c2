namespace Vigil.Imaging;

/// <summary>
/// Resize, optional centre crop, and per-channel normalisation (x - mean) / std, in that order (torchvision's
/// Resize → CenterCrop → ToTensor → Normalize). Masks get the same geometry with nearest-neighbour sampling.
/// </summary>
public sealed record Preprocessing
{
    public static readonly IReadOnlyList<float> ImageNetMean = [0.485f, 0.456f, 0.406f];
    public static readonly IReadOnlyList<float> ImageNetStd = [0.229f, 0.224f, 0.225f];

    public Preprocessing(int resizeHeight, int resizeWidth, int? cropHeight = null, int? cropWidth = null,
        IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
    {
        if (resizeHeight <= 0 || resizeWidth <= 0) throw new ArgumentOutOfRangeException(nameof(resizeHeight), "Resize size must be positive.");
        if (cropHeight > resizeHeight || cropWidth > resizeWidth) throw new ArgumentException("Crop must not exceed the resize size.");
        if ((cropHeight is null) != (cropWidth is null)) throw new ArgumentException("Give both crop height and width, or neither.");
        Mean = mean ?? ImageNetMean;
        Std = std ?? ImageNetStd;
        if (Mean.Count != Std.Count) throw new ArgumentException("Mean and std need one value per channel each.");
        if (Std.Any(s => s <= 0)) throw new ArgumentException("Std values must be positive.");
        ResizeHeight = resizeHeight;
        ResizeWidth = resizeWidth;
        CropHeight = cropHeight;
        CropWidth = cropWidth;
    }

    /// <summary>ImageNet statistics, square resize and optional square crop.</summary>
    public static Preprocessing ImageNet(int resize, int? crop = null) => new(resize, resize, crop, crop);

    public int ResizeHeight { get; }
    public int ResizeWidth { get; }
    public int? CropHeight { get; }
    public int? CropWidth { get; }
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    /// <summary>Size of the network input after resize and crop.</summary>
    public int OutputHeight => CropHeight ?? ResizeHeight;
    public int OutputWidth => CropWidth ?? ResizeWidth;

    public ImageTensor Apply(ImageTensor image)
    {
        if (image.Channels != Mean.Count)
            throw new ArgumentException($"Image has {image.Channels} channels; this preprocessing normalises {Mean.Count}.", nameof(image));
        var resized = ImageOps.Resize(image, ResizeHeight, ResizeWidth);
        var result = CropHeight is int ch && CropWidth is int cw ? ImageOps.CenterCrop(resized, ch, cw) : resized;
        int plane = result.Height * result.Width;
        for (int c = 0; c < result.Channels; c++)
        {
            float mean = Mean[c], invStd = 1f / Std[c];
            var span = result.Data.AsSpan(c * plane, plane);
            for (int i = 0; i < span.Length; i++) span[i] = (span[i] - mean) * invStd;
        }
        return result;
    }

    public BinaryMask ApplyToMask(BinaryMask mask)
    {
        var resized = ImageOps.Resize(mask, ResizeHeight, ResizeWidth);
        return CropHeight is int ch && CropWidth is int cw ? ImageOps.CenterCrop(resized, ch, cw) : resized;
    }
}
