using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Vigil.Imaging;

public enum Interpolation { Nearest, Bilinear, Area }

/// <summary>Geometric operations on <see cref="ImageTensor"/> and <see cref="BinaryMask"/>.</summary>
public static class ImageOps
{
    public static ImageTensor Resize(ImageTensor image, int height, int width, Interpolation interpolation = Interpolation.Bilinear)
    {
        if (image.Height == height && image.Width == width) return new ImageTensor(image.Channels, height, width, (float[])image.Data.Clone());
        using var src = ImageIO.TensorToMat(image);
        using var dst = new Mat();
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, ToOpenCv(interpolation));
        return ImageIO.MatToTensor(dst, 1.0);
    }

    /// <summary>Nearest-neighbour resize, so a mask stays binary.</summary>
    public static BinaryMask Resize(BinaryMask mask, int height, int width)
    {
        if (mask.Height == height && mask.Width == width) return new BinaryMask(height, width, (bool[])mask.Data.Clone());
        var bytes = Array.ConvertAll(mask.Data, v => v ? (byte)1 : (byte)0);
        using var src = Mat.FromPixelData(mask.Height, mask.Width, MatType.CV_8UC1, bytes);
        using var dst = new Mat();
        Cv2.Resize(src, dst, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        var outBytes = new byte[height * width];
        Marshal.Copy(dst.Data, outBytes, 0, outBytes.Length);
        return new BinaryMask(height, width, Array.ConvertAll(outBytes, b => b != 0));
    }

    /// <summary>
    /// The image as RGB: grey images repeat their channel (ImageNet networks take three), RGB is returned as it is, any
    /// other channel count is an input error naming <paramref name="what"/>.
    /// </summary>
    public static ImageTensor ToRgb(ImageTensor image, string what) => image.Channels switch
    {
        3 => image,
        1 => new ImageTensor(3, image.Height, image.Width, [.. image.Data, .. image.Data, .. image.Data]),
        _ => throw new VigilInputException($"{what} has {image.Channels} channels; images must be RGB (3 channels) or grey (1)."),
    };

    public static ImageTensor CenterCrop(ImageTensor image, int height, int width)
    {
        var (top, left) = CropOrigin(image.Height, image.Width, height, width);
        return Crop(image, new PixelRegion(top, left, height, width));
    }

    public static BinaryMask CenterCrop(BinaryMask mask, int height, int width)
    {
        var (top, left) = CropOrigin(mask.Height, mask.Width, height, width);
        return Crop(mask, new PixelRegion(top, left, height, width));
    }

    /// <summary>The pixels of <paramref name="region"/> (which must lie inside the image), as a new image.</summary>
    public static ImageTensor Crop(ImageTensor image, PixelRegion region)
    {
        RequireInside(region, image.Height, image.Width);
        var (top, left, height, width) = region;
        var result = new ImageTensor(image.Channels, height, width);
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < height; y++)
                image.Data.AsSpan((c * image.Height + top + y) * image.Width + left, width)
                    .CopyTo(result.Data.AsSpan((c * height + y) * width, width));
        return result;
    }

    /// <summary>The pixels of <paramref name="region"/> (which must lie inside the mask), as a new mask.</summary>
    public static BinaryMask Crop(BinaryMask mask, PixelRegion region)
    {
        RequireInside(region, mask.Height, mask.Width);
        var (top, left, height, width) = region;
        var result = new BinaryMask(height, width);
        for (int y = 0; y < height; y++)
            mask.Data.AsSpan((top + y) * mask.Width + left, width).CopyTo(result.Data.AsSpan(y * width, width));
        return result;
    }

    private static void RequireInside(PixelRegion region, int height, int width)
    {
        if (region.Top < 0 || region.Left < 0 || region.Height <= 0 || region.Width <= 0
            || region.Top + region.Height > height || region.Left + region.Width > width)
            throw new ArgumentException($"Region {region} does not lie inside the {width}x{height} image.", nameof(region));
    }

    /// <summary>torchvision's CenterCrop origin: round((size - crop) / 2).</summary>
    private static (int Top, int Left) CropOrigin(int h, int w, int cropH, int cropW)
    {
        if (cropH > h || cropW > w)
            throw new ArgumentException($"Crop {cropH}x{cropW} is larger than the image {h}x{w}; resize first.");
        return ((int)Math.Round((h - cropH) / 2.0), (int)Math.Round((w - cropW) / 2.0));
    }

    private static InterpolationFlags ToOpenCv(Interpolation i) => i switch
    {
        Interpolation.Nearest => InterpolationFlags.Nearest,
        Interpolation.Area => InterpolationFlags.Area,
        _ => InterpolationFlags.Linear,
    };
}
