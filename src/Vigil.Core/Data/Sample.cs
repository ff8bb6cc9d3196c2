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

    /// <summary>Identifies the image a model sees: the source path, plus "#variant" for an augmented copy.</summary>
    public string Id => Augmentation is null ? SourcePath : $"{SourcePath}#{Augmentation.Variant}";

    /// <summary>The image as RGB CHW floats in [0, 1], augmented when the sample is a variant.</summary>
    public ImageTensor LoadImage()
    {
        var image = ImageIO.ReadRgb(SourcePath);
        return Augmentation is null ? image : Augmentation.Apply(image);
    }

    /// <summary>The mask at the image's size (after the variant's geometry, if any); all-false when the sample has none.</summary>
    public BinaryMask LoadMask(int imageHeight, int imageWidth)
    {
        var mask = Mask?.Load(imageHeight, imageWidth) ?? BinaryMask.Empty(imageHeight, imageWidth);
        return Augmentation is null ? mask : Augmentation.Apply(mask);
    }

    /// <summary>Image and mask together, the mask checked against the image's size.</summary>
    public (ImageTensor Image, BinaryMask Mask) Load()
    {
        var image = LoadImage();
        return (image, LoadMask(image.Height, image.Width));
    }
}
