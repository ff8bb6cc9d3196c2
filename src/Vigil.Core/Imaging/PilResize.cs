namespace Vigil.Imaging;

/// <summary>
/// PIL's Image.resize (Pillow's Resample.c), which is what torchvision's Resize does to the PIL images of the papers'
/// reference code. Filters are separable and anti-aliased: when shrinking by a factor s the filter is stretched by s,
/// so every source pixel contributes (no aliasing); the horizontal pass runs first, and a pass whose size does not
/// change is skipped. Vigil resamples float data in double precision, as PIL does for its 32-bit float mode. On
/// 8-bit images PIL also clips to 0–255 after each pass (Lanczos overshoots at hard edges), which the optional clip
/// range reproduces, and rounds to 8 bits after each pass, which Vigil does not: a difference below one grey level
/// (measured in the tests).
/// </summary>
public static class PilResize
{
    /// <summary>
    /// Resizes every channel with PIL's <paramref name="filter"/> (bilinear = triangle, Lanczos = Lanczos-3), clipping
    /// each pass's values to <paramref name="clip"/> when given: (0, 1) on images scaled to [0, 1] does what PIL's
    /// clipping to 0–255 does on the 8-bit images of the reference code.
    /// </summary>
    public static ImageTensor Resize(ImageTensor image, int height, int width, ResizeFilter filter, (float Low, float High)? clip = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var kernel = filter switch
        {
            ResizeFilter.AntialiasedBilinear => Kernel.Triangle,
            ResizeFilter.AntialiasedLanczos => Kernel.Lanczos3,
            _ => throw new ArgumentException($"{filter} is not a PIL filter; use {ResizeFilter.AntialiasedBilinear} or {ResizeFilter.AntialiasedLanczos}.", nameof(filter)),
        };
        int inH = image.Height, inW = image.Width;
        var horizontal = inW == width ? null : Coefficients.For(inW, width, kernel);
        var vertical = inH == height ? null : Coefficients.For(inH, height, kernel);
        var result = new ImageTensor(image.Channels, height, width);
        var rows = new float[inH * width];
        for (int c = 0; c < image.Channels; c++)
        {
            var source = image.Plane(c);
            if (horizontal == null) source.CopyTo(rows);
            else
                for (int y = 0; y < inH; y++)
                    horizontal.Apply(source.Slice(y * inW, inW), 1, rows.AsSpan(y * width, width), 1, clip);
            var target = result.Plane(c);
            if (vertical == null) rows.AsSpan(0, height * width).CopyTo(target);
            else
                for (int x = 0; x < width; x++)
                    vertical.Apply(rows.AsSpan(x), width, target[x..], width, clip);
        }
        return result;
    }

    /// <summary>
    /// PIL's NEAREST resize: output pixel x takes source pixel floor((x + 0.5) · in / out), the one under the output
    /// pixel's centre (OpenCV's INTER_NEAREST takes floor(x · in / out) instead).
    /// </summary>
    public static BinaryMask Nearest(BinaryMask mask, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var rows = CentreSources(mask.Height, height);
        var columns = CentreSources(mask.Width, width);
        var result = new BinaryMask(height, width);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                result[y, x] = mask[rows[y], columns[x]];
        return result;
    }

    private static int[] CentreSources(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        return Enumerable.Range(0, outSize).Select(i => Math.Min((int)((i + 0.5) * scale), inSize - 1)).ToArray();
    }

    private sealed record Kernel(double Support, Func<double, double> Weight)
    {
        public static readonly Kernel Triangle = new(1.0, x => Math.Abs(x) < 1.0 ? 1.0 - Math.Abs(x) : 0.0);

        // PIL's window is [-3, 3): the asymmetry is its own.
        public static readonly Kernel Lanczos3 = new(3.0, x => x >= -3.0 && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0);

        private static double Sinc(double x) => x == 0.0 ? 1.0 : Math.Sin(x * Math.PI) / (x * Math.PI);
    }

    /// <summary>Per output pixel: first source pixel and normalised weights (Pillow's precompute_coeffs).</summary>
    private sealed class Coefficients
    {
        private readonly int[] _first;
        private readonly double[][] _weights;

        private Coefficients(int[] first, double[][] weights) => (_first, _weights) = (first, weights);

        public static Coefficients For(int inSize, int outSize, Kernel kernel)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = kernel.Support * filterScale, inverseScale = 1.0 / filterScale;
            var first = new int[outSize];
            var weights = new double[outSize][];
            for (int i = 0; i < outSize; i++)
            {
                double centre = (i + 0.5) * scale;
                // C's (int) cast truncates toward zero, as the casts here do.
                int min = Math.Max((int)(centre - support + 0.5), 0);
                int max = Math.Min((int)(centre + support + 0.5), inSize);
                var w = new double[max - min];
                double sum = 0;
                for (int k = 0; k < w.Length; k++) sum += w[k] = kernel.Weight((k + min - centre + 0.5) * inverseScale);
                if (sum != 0) for (int k = 0; k < w.Length; k++) w[k] /= sum;
                first[i] = min;
                weights[i] = w;
            }
            return new Coefficients(first, weights);
        }

        /// <summary>Resamples a strided line of <paramref name="source"/> into a strided line of <paramref name="target"/>.</summary>
        public void Apply(ReadOnlySpan<float> source, int sourceStride, Span<float> target, int targetStride, (float Low, float High)? clip)
        {
            var (low, high) = clip ?? (float.NegativeInfinity, float.PositiveInfinity);
            for (int i = 0; i < _first.Length; i++)
            {
                var w = _weights[i];
                int at = _first[i] * sourceStride;
                double sum = 0;
                for (int k = 0; k < w.Length; k++, at += sourceStride) sum += source[at] * w[k];
                target[i * targetStride] = Math.Clamp((float)sum, low, high);
            }
        }
    }
}
