using System.Runtime.InteropServices;
using OpenCvSharp;
using Vigil.Randomness;

namespace Vigil.Detectors.Draem;

/// <summary>
/// The ten imgaug augmenters data_loader.py draws three of for each anomaly source image, on 8-bit RGB pixels
/// (interleaved, height × width × 3), with imgaug's parameter ranges. Rounding of the multiply, add and sharpness steps
/// may differ from imgaug/PIL by one grey level; MultiplyAndAddToBrightness draws its colour space from the six
/// imgaug lists. docs/models.md lists the deviations.
/// </summary>
internal static class DraemAugmenters
{
    public const int Count = 10;

    /// <summary>Applies augmenter <paramref name="which"/> (0 … 9, in data_loader.py's order) in place, drawing its parameters from <paramref name="random"/>.</summary>
    public static void Apply(int which, byte[] rgb, int height, int width, SeededRandom random)
    {
        switch (which)
        {
            case 0: GammaContrast(rgb, random); break;
            case 1: MultiplyAndAddToBrightness(rgb, height, width, random); break;
            case 2: EnhanceSharpness(rgb, height, width, random.Uniform(0, 2)); break;
            case 3: AddToHueAndSaturation(rgb, height, width, random); break;
            case 4: if (random.Chance(0.5)) Solarize(rgb, (int)random.Uniform(32, 128)); break;
            case 5: Posterize(rgb, 1 + (int)random.NextInt64(8)); break;
            case 6: ApplyLut(rgb, Enumerable.Range(0, 256).Select(v => (byte)(255 - v)).ToArray()); break;
            case 7: Autocontrast(rgb, (int)random.NextInt64(21)); break;
            case 8: Equalize(rgb); break;
            case 9: Rotate(rgb, height, width, random.Uniform(-45, 45)); break;
            default: throw new ArgumentOutOfRangeException(nameof(which), which, $"DRAEM has {Count} augmenters.");
        }
    }

    /// <summary>iaa.GammaContrast((0.5, 2.0), per_channel=True): per channel, v ↦ ⌊255 (v / 255)^γ⌋ with γ uniform in [0.5, 2].</summary>
    private static void GammaContrast(byte[] rgb, SeededRandom random)
    {
        for (int c = 0; c < 3; c++)
        {
            float gamma = (float)random.Uniform(0.5, 2.0);
            var table = Enumerable.Range(0, 256).Select(v => (byte)Math.Clamp(MathF.Pow((float)(v / 255.0), gamma) * 255, 0, 255)).ToArray();
            for (int i = c; i < rgb.Length; i += 3) rgb[i] = table[rgb[i]];
        }
    }

    /// <summary>
    /// iaa.MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(−30, 30)): into one of YCrCb, HSV, HLS, Lab, Luv, YUV (drawn),
    /// its brightness channel multiplied by a factor uniform in [0.8, 1.2] and shifted by one uniform in [−30, 30], in
    /// random order, rounded and clipped to 0 … 255 each time, and back to RGB.
    /// </summary>
    private static void MultiplyAndAddToBrightness(byte[] rgb, int height, int width, SeededRandom random)
    {
        (ColorConversionCodes To, ColorConversionCodes Back, int Channel)[] spaces =
        [
            (ColorConversionCodes.RGB2YCrCb, ColorConversionCodes.YCrCb2RGB, 0), (ColorConversionCodes.RGB2HSV, ColorConversionCodes.HSV2RGB, 2),
            (ColorConversionCodes.RGB2HLS, ColorConversionCodes.HLS2RGB, 1), (ColorConversionCodes.RGB2Lab, ColorConversionCodes.Lab2RGB, 0),
            (ColorConversionCodes.RGB2Luv, ColorConversionCodes.Luv2RGB, 0), (ColorConversionCodes.RGB2YUV, ColorConversionCodes.YUV2RGB, 0),
        ];
        var (to, back, channel) = spaces[random.NextInt64(spaces.Length)];
        double multiply = random.Uniform(0.8, 1.2), add = random.Uniform(-30, 30);
        bool multiplyFirst = random.Chance(0.5);
        var converted = Convert(rgb, height, width, to);
        for (int i = channel; i < converted.Length; i += 3)
        {
            double v = converted[i];
            v = multiplyFirst ? Math.Clamp(Math.Round(v * multiply), 0, 255) : Math.Clamp(v + Math.Round(add), 0, 255);
            v = multiplyFirst ? Math.Clamp(v + Math.Round(add), 0, 255) : Math.Clamp(Math.Round(v * multiply), 0, 255);
            converted[i] = (byte)v;
        }
        Convert(converted, height, width, back).CopyTo(rgb, 0);
    }

    /// <summary>
    /// iaa.pillike.EnhanceSharpness(factor=(0, 2)), PIL's ImageEnhance.Sharpness: the image blended with its SMOOTH-filtered
    /// copy (kernel [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13, border pixels kept) as smooth + factor · (image − smooth).
    /// </summary>
    internal static void EnhanceSharpness(byte[] rgb, int height, int width, double factor)
    {
        var source = (byte[])rgb.Clone();
        for (int y = 1; y < height - 1; y++)
            for (int x = 1; x < width - 1; x++)
                for (int c = 0; c < 3; c++)
                {
                    int sum = 0;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) sum += source[((y + dy) * width + x + dx) * 3 + c];
                    int i = (y * width + x) * 3 + c;
                    double smooth = Math.Round((sum + 4.0 * source[i]) / 13.0, MidpointRounding.AwayFromZero);
                    rgb[i] = (byte)Math.Clamp(Math.Round(smooth + factor * (source[i] - smooth), MidpointRounding.AwayFromZero), 0, 255);
                }
    }

    /// <summary>
    /// iaa.AddToHueAndSaturation((−50, 50), per_channel=True): OpenCV HSV (hue 0 … 179); a whole number h uniform in
    /// −50 … 50 becomes the hue shift ⌊h / 255 · 180⌋ (toward zero) taken modulo 180, another whole number is added to
    /// the saturation, clipped.
    /// </summary>
    private static void AddToHueAndSaturation(byte[] rgb, int height, int width, SeededRandom random)
    {
        int hue = (int)((float)(-50 + random.NextInt64(101)) / 255f * 180);
        int saturation = -50 + (int)random.NextInt64(101);
        var hsv = Convert(rgb, height, width, ColorConversionCodes.RGB2HSV);
        for (int i = 0; i < hsv.Length; i += 3)
        {
            hsv[i] = (byte)(((hsv[i] + hue) % 180 + 180) % 180);
            hsv[i + 1] = (byte)Math.Clamp(hsv[i + 1] + saturation, 0, 255);
        }
        Convert(hsv, height, width, ColorConversionCodes.HSV2RGB).CopyTo(rgb, 0);
    }

    /// <summary>iaa.Solarize: every value at or above <paramref name="threshold"/> inverted (255 − v).</summary>
    internal static void Solarize(byte[] rgb, int threshold) =>
        ApplyLut(rgb, Enumerable.Range(0, 256).Select(v => (byte)(v >= threshold ? 255 - v : v)).ToArray());

    /// <summary>iaa.Posterize (nb_bits whole in 1 … 8): the <paramref name="bits"/> highest bits of each value kept.</summary>
    internal static void Posterize(byte[] rgb, int bits) =>
        ApplyLut(rgb, Enumerable.Range(0, 256).Select(v => (byte)(v & ~((1 << (8 - bits)) - 1))).ToArray());

    /// <summary>
    /// iaa.pillike.Autocontrast(cutoff whole in 0 … 20), PIL's ImageOps.autocontrast per channel: cutoff % of the pixels
    /// cut from each end of the histogram, then the remaining range [lo, hi] stretched to [0, 255] (v ↦ ⌊(v − lo) · 255 / (hi − lo)⌋, clipped).
    /// </summary>
    internal static void Autocontrast(byte[] rgb, int cutoff)
    {
        for (int c = 0; c < 3; c++)
        {
            var histogram = Histogram(rgb, c);
            long pixels = rgb.Length / 3;
            long cut = pixels * cutoff / 100;
            for (int lo = 0; lo < 256 && cut > 0; lo++)
            {
                long taken = Math.Min(cut, histogram[lo]);
                histogram[lo] -= taken;
                cut -= taken;
            }
            cut = pixels * cutoff / 100;
            for (int hi = 255; hi >= 0 && cut > 0; hi--)
            {
                long taken = Math.Min(cut, histogram[hi]);
                histogram[hi] -= taken;
                cut -= taken;
            }
            int low = Array.FindIndex(histogram, h => h > 0), high = Array.FindLastIndex(histogram, h => h > 0);
            if (low < 0 || high <= low) continue;
            double scale = 255.0 / (high - low), offset = -low * scale;
            var table = Enumerable.Range(0, 256).Select(v => (byte)Math.Clamp((int)(v * scale + offset), 0, 255)).ToArray();
            for (int i = c; i < rgb.Length; i += 3) rgb[i] = table[rgb[i]];
        }
    }

    /// <summary>
    /// iaa.pillike.Equalize, PIL's ImageOps.equalize per channel: with step = (pixels − count of the highest used
    /// value) / 255 (integer), value i ↦ min(255, (step / 2 + pixels below i) / step); unchanged when step is 0.
    /// </summary>
    internal static void Equalize(byte[] rgb)
    {
        for (int c = 0; c < 3; c++)
        {
            var histogram = Histogram(rgb, c);
            int last = Array.FindLastIndex(histogram, h => h > 0);
            long step = (histogram.Sum() - histogram[last]) / 255;
            if (step == 0) continue;
            var table = new byte[256];
            long n = step / 2;
            for (int i = 0; i < 256; i++)
            {
                table[i] = (byte)Math.Min(255, n / step);
                n += histogram[i];
            }
            for (int i = c; i < rgb.Length; i += 3) rgb[i] = table[rgb[i]];
        }
    }

    /// <summary>iaa.Affine(rotate=(−45, 45)): rotation about the image centre, bilinear, zeros outside.</summary>
    private static void Rotate(byte[] rgb, int height, int width, double degrees)
    {
        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC3, rgb);
        using var rotated = Rotated(source, degrees);
        Marshal.Copy(rotated.Data, rgb, 0, rgb.Length);
    }

    /// <summary>
    /// <paramref name="image"/> rotated by <paramref name="degrees"/> about imgaug's centre (w/2 − ½, h/2 − ½), bilinear,
    /// zeros outside (imgaug's Affine defaults: order 1, constant mode, cval 0).
    /// </summary>
    public static Mat Rotated(Mat image, double degrees)
    {
        using var matrix = Cv2.GetRotationMatrix2D(new Point2f(image.Width / 2f - 0.5f, image.Height / 2f - 0.5f), degrees, 1);
        var rotated = new Mat();
        Cv2.WarpAffine(image, rotated, matrix, image.Size(), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        return rotated;
    }

    private static long[] Histogram(byte[] rgb, int channel)
    {
        var histogram = new long[256];
        for (int i = channel; i < rgb.Length; i += 3) histogram[rgb[i]]++;
        return histogram;
    }

    private static void ApplyLut(byte[] rgb, byte[] table)
    {
        for (int i = 0; i < rgb.Length; i++) rgb[i] = table[rgb[i]];
    }

    private static byte[] Convert(byte[] pixels, int height, int width, ColorConversionCodes code)
    {
        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC3, pixels);
        using var converted = new Mat();
        Cv2.CvtColor(source, converted, code);
        var result = new byte[pixels.Length];
        Marshal.Copy(converted.Data, result, 0, result.Length);
        return result;
    }
}
