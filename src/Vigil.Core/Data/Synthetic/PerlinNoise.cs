using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// Gradient (Perlin) noise on a regular lattice, as DRAEM's <c>rand_perlin_2d_np</c> (perlin.py) computes it: a random
/// unit gradient at each of the (res_y + 1) × (res_x + 1) lattice points, the dot products of each pixel's offset from
/// its cell's four corners with their gradients, blended with the quintic fade 6t⁵ − 15t⁴ + 10t³ and scaled by √2, so
/// the values lie in [−1, 1] and are 0 on the lattice points. (<see cref="ValueNoise"/> interpolates random values
/// with a cubic fade instead: another noise.)
/// </summary>
public static class PerlinNoise
{
    /// <summary>Perlin's quintic fade 6t⁵ − 15t⁴ + 10t³: 0 at 0, ½ at ½, 1 at 1, with zero first and second derivatives at both ends.</summary>
    public static double Fade(double t) => t * t * t * (t * (t * 6 - 15) + 10);

    /// <summary>
    /// A <paramref name="height"/> × <paramref name="width"/> noise map (row-major) over <paramref name="resY"/> ×
    /// <paramref name="resX"/> lattice cells; the gradients' angles are uniform in [0, 2π), drawn from
    /// <paramref name="random"/> row by row as numpy's <c>rand(res_y + 1, res_x + 1)</c> fills them.
    /// </summary>
    public static float[] Sample(int height, int width, int resY, int resX, SeededRandom random)
    {
        var angles = new double[(resY + 1) * (resX + 1)];
        for (int i = 0; i < angles.Length; i++) angles[i] = 2 * Math.PI * random.NextDouble();
        return FromAngles(height, width, resY, resX, angles);
    }

    /// <summary>
    /// The noise map for given gradient angles [(resY + 1) · (resX + 1)], row-major. Pixel (y, x) sits at lattice
    /// coordinates (y · resY / height, x · resX / width), as perlin.py's <c>np.mgrid[0:res:delta]</c>; the official code
    /// requires the sizes to be multiples of the resolutions (it repeats each gradient size / res times), and gives the
    /// same cells then.
    /// </summary>
    public static float[] FromAngles(int height, int width, int resY, int resX, IReadOnlyList<double> angles)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), "The noise map needs at least one pixel.");
        if (resY < 1 || resX < 1) throw new ArgumentOutOfRangeException(nameof(resY), "The lattice needs at least one cell per axis.");
        if (angles.Count != (resY + 1) * (resX + 1)) throw new ArgumentException($"Expected {(resY + 1) * (resX + 1)} angles, got {angles.Count}.", nameof(angles));
        var noise = new float[height * width];
        for (int y = 0; y < height; y++)
        {
            double gy = y * (double)resY / height;
            int cy = (int)gy;
            double fy = gy - cy, ty = Fade(fy);
            for (int x = 0; x < width; x++)
            {
                double gx = x * (double)resX / width;
                int cx = (int)gx;
                double fx = gx - cx, tx = Fade(fx);
                // The first lattice axis is the row (perlin.py's grid[..., 0]), the gradient (cos, sin) dotted with (row, column) offsets.
                double n00 = Dot(angles[cy * (resX + 1) + cx], fy, fx);
                double n10 = Dot(angles[(cy + 1) * (resX + 1) + cx], fy - 1, fx);
                double n01 = Dot(angles[cy * (resX + 1) + cx + 1], fy, fx - 1);
                double n11 = Dot(angles[(cy + 1) * (resX + 1) + cx + 1], fy - 1, fx - 1);
                double n0 = n00 + ty * (n10 - n00), n1 = n01 + ty * (n11 - n01);
                noise[y * width + x] = (float)(Math.Sqrt(2) * (n0 + tx * (n1 - n0)));
            }
        }
        return noise;
    }

    private static double Dot(double angle, double row, double column) => Math.Cos(angle) * row + Math.Sin(angle) * column;
}
