namespace Vigil.Imaging;

/// <summary>How an image is brought to the network's size before the optional centre crop.</summary>
public enum ResizeMode
{
    /// <summary>Exactly ResizeHeight × ResizeWidth, whatever the aspect ratio (Vigil's default).</summary>
    Stretch,

    /// <summary>
    /// torchvision's Resize(size) with one int: the shorter side becomes size, the longer int(size · long / short),
    /// keeping the aspect ratio. A centre crop is required, so that every image gives the same network input.
    /// </summary>
    ShortSide,
}

/// <summary>The resampling filter for images.</summary>
public enum ResizeFilter
{
    /// <summary>OpenCV's INTER_LINEAR: the 2×2 nearest pixels, no anti-aliasing when shrinking (Vigil's default).</summary>
    Bilinear,

    /// <summary>PIL's BILINEAR (triangle filter stretched by the shrink factor): torchvision's default Resize on PIL images, used by PatchCore.</summary>
    AntialiasedBilinear,

    /// <summary>PIL's LANCZOS (Lanczos-3, stretched likewise), spelled Image.ANTIALIAS in PaDiM's and SPADE's code.</summary>
    AntialiasedLanczos,
}

/// <summary>How ground-truth masks follow the image geometry.</summary>
public enum MaskResize
{
    /// <summary>OpenCV's INTER_NEAREST: output pixel x takes source pixel floor(x · in / out) (Vigil's default).</summary>
    Nearest,

    /// <summary>PIL's NEAREST: source pixel floor((x + 0.5) · in / out), under the output pixel's centre (PaDiM, SPADE).</summary>
    CentredNearest,

    /// <summary>
    /// The image filter applied to the 0/1 mask, keeping pixels that come out fully defective (at least 254.5 / 255,
    /// i.e. 255 after PIL's 8-bit rounding): PatchCore resizes its 8-bit masks like images and casts the [0, 1]
    /// tensor to int for the metrics, so only such pixels count as defective.
    /// </summary>
    FilteredFullyDefective,

    /// <summary>
    /// OpenCV's INTER_LINEAR on the 8-bit mask, then every non-zero pixel defective: STPM's load_gt
    /// (cv2.resize(mask, (256, 256)).astype(bool)), which widens each defect by about a pixel at its border.
    /// </summary>
    BilinearAnyDefective,
}

/// <summary>
/// Resize, optional centre crop, and per-channel normalisation (x - mean) / std, in that order (torchvision's
/// Resize → CenterCrop → ToTensor → Normalize). Masks get the same geometry (<see cref="MaskResize"/>).
/// The defaults (stretch, OpenCV bilinear, OpenCV nearest masks) are Vigil's original behaviour; docs/protocol.md
/// says which settings reproduce the papers' reference code.
/// </summary>
public sealed record Preprocessing
{
    public static readonly IReadOnlyList<float> ImageNetMean = [0.485f, 0.456f, 0.406f];
    public static readonly IReadOnlyList<float> ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>A value of a filtered 0/1 mask at or above this is "fully defective" (PIL rounds it to 255).</summary>
    public const float FullyDefective = 254.5f / 255f;

    private readonly ResizeMode _mode;

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

    /// <summary>
    /// torchvision's Resize(<paramref name="size"/>) then CenterCrop(<paramref name="crop"/>) on PIL images, with ImageNet
    /// statistics unless given: e.g. (256, 224, AntialiasedBilinear, FilteredFullyDefective) is PatchCore's protocol,
    /// (256, 224, AntialiasedLanczos, CentredNearest) PaDiM's and SPADE's.
    /// </summary>
    public static Preprocessing ShortSide(int size, int crop, ResizeFilter filter, MaskResize masks,
        IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null) =>
        new(size, size, crop, crop, mean, std) { Mode = ResizeMode.ShortSide, Filter = filter, MaskResize = masks };

    public int ResizeHeight { get; }
    public int ResizeWidth { get; }
    public int? CropHeight { get; }
    public int? CropWidth { get; }
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    /// <summary>Stretch to ResizeHeight × ResizeWidth, or scale the short side to ResizeHeight (= ResizeWidth, crop required).</summary>
    public ResizeMode Mode
    {
        get => _mode;
        init
        {
            if (value == ResizeMode.ShortSide && (ResizeHeight != ResizeWidth || CropHeight is null))
                throw new ArgumentException($"Short-side resizing takes one size (got {ResizeHeight}x{ResizeWidth}) and needs a centre crop, so that every image gives the same input size.");
            _mode = value;
        }
    }

    public ResizeFilter Filter { get; init; } = ResizeFilter.Bilinear;

    public MaskResize MaskResize { get; init; } = MaskResize.Nearest;

    /// <summary>Size of the network input after resize and crop.</summary>
    public int OutputHeight => CropHeight ?? ResizeHeight;
    public int OutputWidth => CropWidth ?? ResizeWidth;

    /// <summary>The size an image of <paramref name="height"/> × <paramref name="width"/> is resized to, before the crop.</summary>
    public (int Height, int Width) ResizedSize(int height, int width)
    {
        if (Mode == ResizeMode.Stretch) return (ResizeHeight, ResizeWidth);
        int size = ResizeHeight;
        // torchvision: new_long = int(size * long / short), in double precision as Python's true division.
        return height <= width ? (size, (int)((double)size * width / height)) : ((int)((double)size * height / width), size);
    }

    public ImageTensor Apply(ImageTensor image)
    {
        if (image.Channels != Mean.Count)
            throw new ArgumentException($"Image has {image.Channels} channels; this preprocessing normalises {Mean.Count}.", nameof(image));
        var result = Crop(Resize(image));
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
        var (height, width) = ResizedSize(mask.Height, mask.Width);
        var resized = MaskResize switch
        {
            MaskResize.Nearest => ImageOps.Resize(mask, height, width),
            MaskResize.CentredNearest => PilResize.Nearest(mask, height, width),
            MaskResize.BilinearAnyDefective => AnyDefective(mask, height, width),
            _ => FilterMask(mask, height, width),
        };
        return CropHeight is int ch && CropWidth is int cw ? ImageOps.CenterCrop(resized, ch, cw) : resized;
    }

    private ImageTensor Resize(ImageTensor image)
    {
        var (height, width) = ResizedSize(image.Height, image.Width);
        if (Filter == ResizeFilter.Bilinear) return ImageOps.Resize(image, height, width);
        return image.Height == height && image.Width == width
            ? new ImageTensor(image.Channels, height, width, (float[])image.Data.Clone())
            : PilResize.Resize(image, height, width, Filter, clip: (0f, 1f));
    }

    private ImageTensor Crop(ImageTensor resized) =>
        CropHeight is int ch && CropWidth is int cw ? ImageOps.CenterCrop(resized, ch, cw) : resized;

    /// <summary>Bilinear 0/255 values that stay above 0 after rounding to 8 bits (v · 255 ≥ 0.5).</summary>
    private static BinaryMask AnyDefective(BinaryMask mask, int height, int width)
    {
        var values = new ImageTensor(1, mask.Height, mask.Width, Array.ConvertAll(mask.Data, d => d ? 1f : 0f));
        return new BinaryMask(height, width, Array.ConvertAll(ImageOps.Resize(values, height, width).Data, v => v * 255 >= 0.5f));
    }

    private BinaryMask FilterMask(BinaryMask mask, int height, int width)
    {
        var values = new ImageTensor(1, mask.Height, mask.Width, Array.ConvertAll(mask.Data, d => d ? 1f : 0f));
        var filtered = Filter == ResizeFilter.Bilinear ? ImageOps.Resize(values, height, width) : PilResize.Resize(values, height, width, Filter, clip: (0f, 1f));
        return new BinaryMask(height, width, Array.ConvertAll(filtered.Data, v => v >= FullyDefective));
    }
}
