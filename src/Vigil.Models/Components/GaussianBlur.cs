namespace Vigil.Components;

/// <summary>
/// Separable Gaussian smoothing of a score map, as scipy.ndimage.gaussian_filter (used by the PatchCore, PaDiM
/// and SPADE reference code): truncation at 4σ, kernel size 2·⌊4σ + 0.5⌋ + 1, mirrored borders that repeat the
/// edge pixel ('reflect' in scipy, BORDER_REFLECT in OpenCV).
/// </summary>
public static class GaussianBlur
{
    public static int KernelSize(double sigma) => 2 * (int)(4 * sigma + 0.5) + 1;

    /// <summary>The normalised 1-D kernel, centre at index KernelSize / 2.</summary>
    public static double[] Kernel(double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"Gaussian sigma {sigma} must be positive.");
        int size = KernelSize(sigma), radius = size / 2;
        var kernel = new double[size];
        for (int i = 0; i < size; i++) kernel[i] = Math.Exp(-0.5 * (i - radius) * (i - radius) / (sigma * sigma));
        double sum = kernel.Sum();
        for (int i = 0; i < size; i++) kernel[i] /= sum;
        return kernel;
    }

    /// <summary>Returns a smoothed copy of a row-major <paramref name="height"/> × <paramref name="width"/> map.</summary>
    public static float[] Apply(float[] map, int height, int width, double sigma)
    {
        if (map.Length != height * width) throw new ArgumentException($"Map has {map.Length} values, not {height}x{width}.", nameof(map));
        var kernel = Kernel(sigma);
        int radius = kernel.Length / 2;
        var rowIndex = MirroredOffsets(width, radius);
        var colIndex = MirroredOffsets(height, radius);
        var horizontal = new float[map.Length];
        Parallel.For(0, height, y =>
        {
            int row = y * width;
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int t = 0; t < kernel.Length; t++) sum += kernel[t] * map[row + rowIndex[x + t]];
                horizontal[row + x] = (float)sum;
            }
        });
        var result = new float[map.Length];
        Parallel.For(0, height, y =>
        {
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int t = 0; t < kernel.Length; t++) sum += kernel[t] * horizontal[colIndex[y + t] * width + x];
                result[y * width + x] = (float)sum;
            }
        });
        return result;
    }

    /// <summary>Source index for every padded position −radius … length−1+radius, mirroring with period 2·length.</summary>
    private static int[] MirroredOffsets(int length, int radius)
    {
        var offsets = new int[length + 2 * radius];
        for (int i = 0; i < offsets.Length; i++)
        {
            int p = ((i - radius) % (2 * length) + 2 * length) % (2 * length);
            offsets[i] = p < length ? p : 2 * length - 1 - p;
        }
        return offsets;
    }
}
