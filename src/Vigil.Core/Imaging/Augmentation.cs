using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Vigil.Imaging;

/// <summary>
/// How far each corner of the image moves inwards under a perspective distortion, as fractions of the image's width (X)
/// and height (Y). All zero is no distortion; torchvision's RandomPerspective(d) draws each offset from [0, d/2].
/// </summary>
public sealed record PerspectiveCorners(
    double TopLeftX, double TopLeftY, double TopRightX, double TopRightY,
    double BottomRightX, double BottomRightY, double BottomLeftX, double BottomLeftY);

/// <summary>
/// One concrete augmentation of an image (and, with the same geometry, of its mask): fixed parameters, no randomness, so
/// applying it twice gives the same pixels. Geometry, in this order and composed into one warp (one interpolation):
/// rotation and scale about the image centre, translation, flips, perspective; then colour jitter on the image only.
/// Pixels moved in from outside the image are 0 (black, not defective), as in torchvision.
/// </summary>
/// <param name="Variant">Index of this variant among the copies of one image (≥ 1; 0 is the unaugmented image).</param>
/// <param name="RotationDegrees">Counter-clockwise rotation (as displayed) about the centre ((w−1)/2, (h−1)/2).</param>
/// <param name="Scale">Zoom about the centre; below 1 shrinks.</param>
/// <param name="TranslateX">Shift right as a fraction of the width (negative: left).</param>
/// <param name="TranslateY">Shift down as a fraction of the height (negative: up).</param>
/// <param name="FlipHorizontal">Mirror left–right.</param>
/// <param name="FlipVertical">Mirror top–bottom.</param>
/// <param name="Perspective">Inward corner offsets, or null for none.</param>
/// <param name="Brightness">Multiplies every value (torchvision adjust_brightness).</param>
/// <param name="Contrast">Blends with the image's mean grey level: f·x + (1−f)·mean (adjust_contrast).</param>
/// <param name="Saturation">Blends with each pixel's grey level: f·x + (1−f)·grey (adjust_saturation).</param>
public sealed record Augmentation(
    int Variant,
    double RotationDegrees = 0, double Scale = 1, double TranslateX = 0, double TranslateY = 0,
    bool FlipHorizontal = false, bool FlipVertical = false, PerspectiveCorners? Perspective = null,
    double Brightness = 1, double Contrast = 1, double Saturation = 1)
{
    /// <summary>The augmented image, same size; values clamped to [0, 1] after each colour step, as torchvision does.</summary>
    public ImageTensor Apply(ImageTensor image)
    {
        var matrix = Geometry(image.Height, image.Width);
        var result = new ImageTensor(image.Channels, image.Height, image.Width);
        for (int c = 0; c < image.Channels; c++)
            Warp(image.Plane(c).ToArray(), image.Height, image.Width, matrix, InterpolationFlags.Linear).CopyTo(result.Plane(c));
        AdjustColour(result);
        return result;
    }

    /// <summary>The mask under the same geometry, nearest-neighbour so it stays binary.</summary>
    public BinaryMask Apply(BinaryMask mask)
    {
        var values = Array.ConvertAll(mask.Data, v => v ? 1f : 0f);
        var warped = Warp(values, mask.Height, mask.Width, Geometry(mask.Height, mask.Width), InterpolationFlags.Nearest);
        return new BinaryMask(mask.Height, mask.Width, Array.ConvertAll(warped, v => v > 0.5f));
    }

    /// <summary>The 3×3 homography taking input pixel coordinates (pixel centres at integers) to output ones.</summary>
    private double[,] Geometry(int height, int width)
    {
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        double a = RotationDegrees * Math.PI / 180, cos = Scale * Math.Cos(a), sin = Scale * Math.Sin(a);
        // With y pointing down, x' = cx + cos·dx + sin·dy, y' = cy − sin·dx + cos·dy turns counter-clockwise on screen
        // (OpenCV's getRotationMatrix2D); then the shift.
        var m = new double[,]
        {
            { cos, sin, cx - cos * cx - sin * cy + TranslateX * width },
            { -sin, cos, cy + sin * cx - cos * cy + TranslateY * height },
            { 0, 0, 1 },
        };
        if (FlipHorizontal) m = Multiply(new double[,] { { -1, 0, width - 1 }, { 0, 1, 0 }, { 0, 0, 1 } }, m);
        if (FlipVertical) m = Multiply(new double[,] { { 1, 0, 0 }, { 0, -1, height - 1 }, { 0, 0, 1 } }, m);
        if (Perspective is { } p) m = Multiply(PerspectiveMatrix(p, height, width), m);
        return m;
    }

    /// <summary>The homography moving the corners (0,0), (w−1,0), (w−1,h−1), (0,h−1) inwards by the offsets.</summary>
    private static double[,] PerspectiveMatrix(PerspectiveCorners p, int height, int width)
    {
        float w = width - 1, h = height - 1;
        Point2f[] from = [new(0, 0), new(w, 0), new(w, h), new(0, h)];
        Point2f[] to =
        [
            new((float)(p.TopLeftX * width), (float)(p.TopLeftY * height)),
            new((float)(w - p.TopRightX * width), (float)(p.TopRightY * height)),
            new((float)(w - p.BottomRightX * width), (float)(h - p.BottomRightY * height)),
            new((float)(p.BottomLeftX * width), (float)(h - p.BottomLeftY * height)),
        ];
        using var mat = Cv2.GetPerspectiveTransform(from, to);
        var m = new double[3, 3];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                m[r, c] = mat.At<double>(r, c);
        return m;
    }

    private static double[,] Multiply(double[,] x, double[,] y)
    {
        var m = new double[3, 3];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                m[r, c] = x[r, 0] * y[0, c] + x[r, 1] * y[1, c] + x[r, 2] * y[2, c];
        return m;
    }

    private static float[] Warp(float[] source, int height, int width, double[,] matrix, InterpolationFlags interpolation)
    {
        using var src = Mat.FromPixelData(height, width, MatType.CV_32FC1, source);
        using var dst = WarpMat(src, matrix, interpolation);
        var result = new float[source.Length];
        Marshal.Copy(dst.Data, result, 0, result.Length); // allocated by the warp, so continuous
        return result;
    }

    private static Mat WarpMat(Mat src, double[,] matrix, InterpolationFlags interpolation)
    {
        using var m = Mat.FromPixelData(3, 3, MatType.CV_64FC1, matrix.Cast<double>().ToArray());
        var dst = new Mat();
        Cv2.WarpPerspective(src, dst, m, src.Size(), interpolation, BorderTypes.Constant, Scalar.All(0));
        return dst;
    }

    private void AdjustColour(ImageTensor image)
    {
        int plane = image.Height * image.Width;
        if (Brightness != 1)
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = Clamp(image.Data[i] * Brightness);
        if (Contrast != 1)
        {
            double mean = Grey(image).Average();
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = Clamp(Contrast * image.Data[i] + (1 - Contrast) * mean);
        }
        if (Saturation != 1)
        {
            var grey = Grey(image);
            for (int c = 0; c < image.Channels; c++)
            {
                var values = image.Plane(c);
                for (int i = 0; i < plane; i++) values[i] = Clamp(Saturation * values[i] + (1 - Saturation) * grey[i]);
            }
        }
    }

    /// <summary>ITU-R 601 luma (torchvision rgb_to_grayscale) for RGB; a single-channel image is its own grey.</summary>
    internal static float[] Grey(ImageTensor image)
    {
        int plane = image.Height * image.Width;
        if (image.Channels != 3) return image.Plane(0).ToArray();
        var grey = new float[plane];
        var d = image.Data;
        for (int i = 0; i < plane; i++) grey[i] = 0.299f * d[i] + 0.587f * d[plane + i] + 0.114f * d[2 * plane + i];
        return grey;
    }

    private static float Clamp(double v) => (float)Math.Clamp(v, 0, 1);
}
