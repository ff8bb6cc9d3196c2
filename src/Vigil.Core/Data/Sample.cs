using Vigil.Imaging;

namespace Vigil.Data;

public enum SampleLabel { Normal = 0, Anomalous = 1 }

/// <summary>Where a sample's pixel mask comes from.</summary>
public abstract record MaskSource
{
    public abstract BinaryMask Load(int imageHeight, int imageWidth);
}

/// <summary>A mask image on disk, binarised (&gt; 0 is defective).</summary>
public sealed record MaskFile(string Path) : MaskSource
{
    public override BinaryMask Load(int imageHeight, int imageWidth)
    {
        var mask = ImageIO.ReadMask(Path);
        if (mask.Height != imageHeight || mask.Width != imageWidth)
            throw new VigilInputException(
                $"Mask '{Path}' is {mask.Width}x{mask.Height} but its image is {imageWidth}x{imageHeight}: a mask must have its image's size. Fix or re-export the mask.");
        return mask;
    }
}

/// <summary>
/// One image of a dataset: where it is, what it is, and how to load it. The single sample type across Vigil:
/// loaders produce it, settings rearrange lists of it, models and metrics consume what it loads.
/// </summary>
/// <param name="SourcePath">The image file.</param>
/// <param name="Label">Normal or anomalous.</param>
/// <param name="DefectType">"good" for normal images, else the defect type (folder name in most datasets).</param>
/// <param name="Dataset">Dataset name, e.g. "mvtec", "mtd".</param>
/// <param name="Category">Category (object/texture class) within the dataset.</param>
/// <param name="Mask">Pixel annotation; null means no defective pixel (normal images, or anomalous images of image-level datasets).</param>
/// <param name="Augmentation">
/// Set for an augmented variant of <paramref name="SourcePath"/> (few-shot setting): loading applies it to the image and,
/// with the same geometry, to the mask. Its parameters are fixed values, so every load gives the same pixels.
/// </param>
public sealed record Sample(string SourcePath, SampleLabel Label, string DefectType, string Dataset, string Category, MaskSource? Mask = null,
    Augmentation? Augmentation = null)
{
    public bool IsAnomalous => Label == SampleLabel.Anomalous;

    /// <summary>0 for the image as stored; the augmentation's variant index (≥ 1) for an augmented copy.</summary>
    public int Variant => Augmentation?.Variant ?? 0;

    /// <summary>
    /// Set for one tile of the image (what a tiled detector trains on): loading crops the image, after the variant's
    /// augmentation if any, and its mask to this region, which must lie inside the image. Null: the whole image.
    /// </summary>
    public PixelRegion? Tile { get; init; }

    /// <summary>Identifies the image a model sees: the source path, plus "#variant" for an augmented copy and "@region" for a tile.</summary>
    public string Id => (Augmentation is null ? SourcePath : $"{SourcePath}#{Augmentation.Variant}") + (Tile is { } tile ? $"@{tile}" : "");

    /// <summary>The image (its tile, for a tile) as RGB CHW floats in [0, 1], augmented when the sample is a variant.</summary>
    public ImageTensor LoadImage() => Cut(LoadWholeImage());

    /// <summary>
    /// The mask at the loaded image's size (after the variant's geometry, if any; for a tile, of the tile); all-false
    /// when the sample has none.
    /// </summary>
    public BinaryMask LoadMask(int imageHeight, int imageWidth)
    {
        if (Tile is not { } tile) return LoadWholeMask(imageHeight, imageWidth);
        if ((imageHeight, imageWidth) != (tile.Height, tile.Width))
            throw new ArgumentException($"Sample '{Id}' is a {tile.Width}x{tile.Height} tile; its mask was asked for at {imageWidth}x{imageHeight}.", nameof(imageHeight));
        var (height, width) = ImageIO.ReadSize(SourcePath);
        return Cut(LoadWholeMask(height, width));
    }

    /// <summary>Image and mask together, the mask checked against the image's size.</summary>
    public (ImageTensor Image, BinaryMask Mask) Load()
    {
        var image = LoadWholeImage();
        return (Cut(image), Cut(LoadWholeMask(image.Height, image.Width)));
    }

    private ImageTensor LoadWholeImage()
    {
        if (Tile is null) return Decode();
        var key = (SourcePath, Variant, File.GetLastWriteTimeUtc(SourcePath));
        if (LastTiledImage.TryGet(key, out var cached)) return cached;
        var image = Decode();
        LastTiledImage.Keep(key, image);
        return image;
    }

    private ImageTensor Decode()
    {
        var image = ImageIO.ReadRgb(SourcePath);
        return Augmentation is null ? image : Augmentation.Apply(image);
    }

    /// <summary>
    /// The whole image a tile was last cut from, per thread and held weakly (the garbage collector may drop it): a
    /// trainer loads the tiles of one image one after another, and each would otherwise decode the whole file again
    /// (81 times for a 2048 × 2048 image in 256-pixel tiles). Keyed by file, variant and the file's write time. Only
    /// crops of it leave <see cref="Sample"/>, so it is never changed.
    /// </summary>
    private static class LastTiledImage
    {
        [ThreadStatic] private static (string Path, int Variant, DateTime Written) _key;
        [ThreadStatic] private static WeakReference<ImageTensor>? _image;

        public static bool TryGet((string, int, DateTime) key, out ImageTensor image)
        {
            image = null!;
            return _image is not null && _key == key && _image.TryGetTarget(out image!);
        }

        public static void Keep((string, int, DateTime) key, ImageTensor image) => (_key, _image) = (key, new WeakReference<ImageTensor>(image));
    }

    private BinaryMask LoadWholeMask(int imageHeight, int imageWidth)
    {
        var mask = Mask?.Load(imageHeight, imageWidth) ?? BinaryMask.Empty(imageHeight, imageWidth);
        return Augmentation is null ? mask : Augmentation.Apply(mask);
    }

    private ImageTensor Cut(ImageTensor image) => Tile is { } tile ? ImageOps.Crop(image, Inside(tile, image.Height, image.Width)) : image;
    private BinaryMask Cut(BinaryMask mask) => Tile is { } tile ? ImageOps.Crop(mask, Inside(tile, mask.Height, mask.Width)) : mask;

    /// <summary>The tile, checked against the image: an image that changed size since its tiles were planned is named.</summary>
    private PixelRegion Inside(PixelRegion tile, int height, int width) =>
        tile.Top + tile.Height <= height && tile.Left + tile.Width <= width ? tile
            : throw new VigilInputException($"Tile {tile} of '{SourcePath}' does not fit its {width}x{height} image; was the file replaced during the run?");
}
