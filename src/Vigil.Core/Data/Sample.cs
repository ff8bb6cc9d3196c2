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
public sealed record Sample(string SourcePath, SampleLabel Label, string DefectType, string Dataset, string Category, MaskSource? Mask = null)
{
    public bool IsAnomalous => Label == SampleLabel.Anomalous;

    /// <summary>The image as RGB CHW floats in [0, 1].</summary>
    public ImageTensor LoadImage() => ImageIO.ReadRgb(SourcePath);

    /// <summary>The mask at the image's size; all-false when the sample has none.</summary>
    public BinaryMask LoadMask(int imageHeight, int imageWidth) =>
        Mask?.Load(imageHeight, imageWidth) ?? BinaryMask.Empty(imageHeight, imageWidth);

    /// <summary>Image and mask together, the mask checked against the image's size.</summary>
    public (ImageTensor Image, BinaryMask Mask) Load()
    {
        var image = LoadImage();
        return (image, LoadMask(image.Height, image.Width));
    }
}
