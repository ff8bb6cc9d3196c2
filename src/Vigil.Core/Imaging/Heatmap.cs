using OpenCvSharp;

namespace Vigil.Imaging;

/// <summary>Renders anomaly maps for people: a jet colour map, blended over the image, with ground-truth outlines.</summary>
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
    /// The image with the coloured map blended over it (weight <paramref name="opacity"/>), and the outlines of
    /// <paramref name="groundTruth"/> drawn in white when given. Grayscale images are shown in gray under the colours.
    /// </summary>
    public static ImageTensor Overlay(ImageTensor image, ScoreMap map, float low, float high, BinaryMask? groundTruth = null, float opacity = 0.45f)
    {
        if ((map.Height, map.Width) != (image.Height, image.Width))
            throw new ArgumentException($"The map is {map.Width}x{map.Height} but the image {image.Width}x{image.Height}.", nameof(map));
        var colours = Colourise(map, low, high);
        var blended = new ImageTensor(3, image.Height, image.Width);
        int plane = image.Height * image.Width;
        for (int c = 0; c < 3; c++)
        {
            int source = Math.Min(c, image.Channels - 1) * plane;
            for (int i = 0; i < plane; i++)
                blended.Data[c * plane + i] = (1 - opacity) * image.Data[source + i] + opacity * colours.Data[c * plane + i];
        }
        if (groundTruth == null || !groundTruth.Data.Contains(true)) return blended;

        using var mat = ImageIO.TensorToMat(blended);
        using var maskMat = Mat.FromPixelData(groundTruth.Height, groundTruth.Width, MatType.CV_8UC1,
            Array.ConvertAll(groundTruth.Data, v => v ? (byte)255 : (byte)0));
        Cv2.FindContours(maskMat, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxNone);
        int thickness = Math.Max(1, Math.Min(image.Height, image.Width) / 200);
        Cv2.DrawContours(mat, contours, -1, new Scalar(1, 1, 1), thickness);
        return ImageIO.MatToTensor(mat, 1.0);
    }
}
