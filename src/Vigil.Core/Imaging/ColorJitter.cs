using Vigil.Randomness;

namespace Vigil.Imaging;

/// <summary>
/// One draw of torchvision's <c>ColorJitter(brightness, contrast, saturation, hue)</c>: the four adjustments with fixed
/// factors, applied in a drawn order (torchvision permutes them at every call), each result clamped to [0, 1] as
/// torchvision's tensor functions do. Applying it twice gives the same pixels.
/// </summary>
/// <param name="Brightness">Multiplies every value (adjust_brightness).</param>
/// <param name="Contrast">Blends with the image's mean grey level: f·x + (1−f)·mean (adjust_contrast).</param>
/// <param name="Saturation">Blends with each pixel's grey level: f·x + (1−f)·grey (adjust_saturation).</param>
/// <param name="Hue">Shift of the hue in turns, in [−0.5, 0.5] (adjust_hue, through HSV).</param>
/// <param name="Order">The adjustments' order: a permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue.</param>
public sealed record ColorJitter(double Brightness, double Contrast, double Saturation, double Hue, IReadOnlyList<int> Order)
{
    /// <summary>
    /// torchvision's draw for ColorJitter(s, s, s, s): a random order, then brightness, contrast and saturation factors
    /// from [max(0, 1 − s), 1 + s] and a hue shift from [−s, s] (s ≤ 0.5).
    /// </summary>
    public static ColorJitter Draw(SeededRandom random, double strength)
    {
        if (strength is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(strength), strength, "The jitter strength must be in [0, 0.5].");
        int[] order = [0, 1, 2, 3];
        SeededRandom.Shuffle(order, random.NextUInt64());
        double low = Math.Max(0, 1 - strength), high = 1 + strength;
        return new ColorJitter(random.Uniform(low, high), random.Uniform(low, high), random.Uniform(low, high), random.Uniform(-strength, strength), order);
    }

    /// <summary>The jittered copy of an RGB image (a grey image gets brightness and contrast only: it has no saturation or hue).</summary>
    public ImageTensor Apply(ImageTensor image)
    {
        var result = new ImageTensor(image.Channels, image.Height, image.Width, (float[])image.Data.Clone());
        foreach (int step in Order)
        {
            switch (step)
            {
                case 0: Scale(result.Data, Brightness, 0); break;
                case 1: Scale(result.Data, Contrast, (1 - Contrast) * Augmentation.Grey(result).Average()); break;
                case 2 when result.Channels == 3: Desaturate(result, Saturation); break;
                case 3 when result.Channels == 3: ShiftHue(result, Hue); break;
            }
        }
        return result;
    }

    /// <summary>v ← clamp(f·v + offset).</summary>
    private static void Scale(float[] values, double factor, double offset)
    {
        for (int i = 0; i < values.Length; i++) values[i] = Clamp(factor * values[i] + offset);
    }

    private static void Desaturate(ImageTensor image, double factor)
    {
        var grey = Augmentation.Grey(image);
        int plane = grey.Length;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) image.Data[c * plane + i] = Clamp(factor * image.Data[c * plane + i] + (1 - factor) * grey[i]);
    }

    /// <summary>torchvision's _rgb2hsv, h ← (h + shift) mod 1, _hsv2rgb, pixel by pixel.</summary>
    private static void ShiftHue(ImageTensor image, double shift)
    {
        var d = image.Data;
        int plane = image.Height * image.Width;
        for (int i = 0; i < plane; i++)
        {
            double r = d[i], g = d[plane + i], b = d[2 * plane + i];
            double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), chroma = max - min;
            if (chroma == 0) continue; // grey: no hue to shift
            double h = max == r ? (g - b) / chroma : max == g ? 2 + (b - r) / chroma : 4 + (r - g) / chroma;
            h = h / 6 + shift;
            h -= Math.Floor(h);
            double s = chroma / max, v = max;
            double sector = h * 6;
            int k = Math.Min((int)sector, 5);
            double f = sector - k, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            (r, g, b) = k switch
            {
                0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q),
            };
            (d[i], d[plane + i], d[2 * plane + i]) = (Clamp(r), Clamp(g), Clamp(b));
        }
    }

    private static float Clamp(double v) => (float)Math.Clamp(v, 0, 1);
}
