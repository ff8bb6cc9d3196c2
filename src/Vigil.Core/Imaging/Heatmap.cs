using OpenCvSharp;

namespace Vigil.Imaging;

/// <summary>
/// Renders anomaly maps for people, the one renderer behind `vigil predict` files and the report's overlays: a jet
/// colour map, blended over the image, and region outlines drawn white over a black halo, which stands out on every
/// jet colour and on light or dark images.
/// </summary>
public static class Heatmap
{
    /// <summary>The map as an RGB jet image; values are clipped to [<paramref name="low"/>, <paramref name="high"/>] (blue → red).</summary>
    public static ImageTensor Colourise(ScoreMap map, float low, float high)
    {
        float range = high > low ? high - low : 1;
        var bytes = Array.ConvertAll(map.Data, v => (byte)Math.Round(Math.Clamp((v - low) / range, 0, 1) * 255));
        using var gray = Mat.FromPixelData(map.Height, map.Width, MatType.CV_8UC1, bytes);
        using var bgr = new Mat();
        Cv2.ApplyColorMap(gray, bgr, ColormapTypes.Jet);
        using var rgb = new Mat();
        Cv2.CvtColor(bgr, rgb, ColorConversionCodes.BGR2RGB);
        return ImageIO.MatToTensor(rgb, 1.0 / 255);
    }

    /// <summary>
    /// The image (grayscale shown in gray) with the coloured map blended over it, half and half, and the outlines of
    /// <paramref name="regions"/> (ground truth, or the pixels a threshold calls defective) when given.
    /// </summary>
    public static ImageTensor Overlay(ImageTensor image, ScoreMap map, float low, float high, BinaryMask? regions = null)
    {
        if ((map.Height, map.Width) != (image.Height, image.Width))
            throw new ArgumentException($"The map is {map.Width}x{map.Height} but the image {image.Width}x{image.Height}.", nameof(map));
        const float opacity = 0.5f;
        var colours = Colourise(map, low, high);
        var blended = new ImageTensor(3, image.Height, image.Width);
        int plane = image.Height * image.Width;
        for (int c = 0; c < 3; c++)
        {
            int source = Math.Min(c, image.Channels - 1) * plane;
            for (int i = 0; i < plane; i++)
                blended.Data[c * plane + i] = (1 - opacity) * image.Data[source + i] + opacity * colours.Data[c * plane + i];
        }
        return regions is null ? blended : Outline(blended, regions);
    }

    /// <summary>The image as RGB with the outlines of <paramref name="regions"/> drawn on it (a copy; nothing drawn for an empty mask).</summary>
    public static ImageTensor Outline(ImageTensor image, BinaryMask regions)
    {
        if ((regions.Height, regions.Width) != (image.Height, image.Width))
            throw new ArgumentException($"The mask is {regions.Width}x{regions.Height} but the image {image.Width}x{image.Height}.", nameof(regions));
        var rgb = image.Channels == 3 ? image : new ImageTensor(3, image.Height, image.Width, [.. image.Data, .. image.Data, .. image.Data]);
        if (!regions.Data.Contains(true)) return rgb == image ? new ImageTensor(3, image.Height, image.Width, (float[])image.Data.Clone()) : rgb;
        using var mat = ImageIO.TensorToMat(rgb);
        using var maskMat = Mat.FromPixelData(regions.Height, regions.Width, MatType.CV_8UC1, Array.ConvertAll(regions.Data, v => v ? (byte)255 : (byte)0));
        Cv2.FindContours(maskMat, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxNone);
        int thickness = Math.Max(1, Math.Min(image.Height, image.Width) / 256);
        Cv2.DrawContours(mat, contours, -1, new Scalar(0, 0, 0), thickness + 2);
        Cv2.DrawContours(mat, contours, -1, new Scalar(1, 1, 1), thickness);
        return ImageIO.MatToTensor(mat, 1.0);
    }

    /// <summary>Two images of one height side by side (left, right).</summary>
    public static ImageTensor SideBySide(ImageTensor left, ImageTensor right)
    {
        if (left.Height != right.Height || left.Channels != right.Channels)
            throw new ArgumentException($"Side-by-side images need one height and channel count; got {left.Channels}x{left.Height} and {right.Channels}x{right.Height}.");
        int h = left.Height, w = left.Width + right.Width;
        var joined = new ImageTensor(left.Channels, h, w);
        for (int c = 0; c < left.Channels; c++)
            for (int y = 0; y < h; y++)
            {
                left.Data.AsSpan((c * h + y) * left.Width, left.Width).CopyTo(joined.Data.AsSpan((c * h + y) * w));
                right.Data.AsSpan((c * h + y) * right.Width, right.Width).CopyTo(joined.Data.AsSpan((c * h + y) * w + left.Width));
            }
        return joined;
    }
}
