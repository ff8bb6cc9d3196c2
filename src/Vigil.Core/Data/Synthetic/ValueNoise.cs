using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>Smooth value noise and its fractal sum: seeded, stateless, stationary.</summary>
internal readonly struct ValueNoise(ulong seed)
{
    /// <summary>Hash of a lattice point, in [-1, 1]: the random values procedural noise interpolates.</summary>
    public static float Lattice(ulong seed, int x, int y)
    {
        ulong h = SeededRandom.Mix(seed + (ulong)(uint)x * 0x9E3779B97F4A7C15UL + (ulong)(uint)y * 0xC2B2AE3D27D4EB4FUL);
        return (float)((h >> 40) * (2.0 / (1UL << 24)) - 1.0);
    }

    /// <summary>Noise in [-1, 1] with features about one unit wide.</summary>
    public float Sample(float x, float y)
    {
        int ix = (int)MathF.Floor(x), iy = (int)MathF.Floor(y);
        float fx = x - ix, fy = y - iy;
        float sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
        float a = Lattice(seed, ix, iy), b = Lattice(seed, ix + 1, iy);
        float c = Lattice(seed, ix, iy + 1), d = Lattice(seed, ix + 1, iy + 1);
        float top = a + (b - a) * sx, bottom = c + (d - c) * sx;
        return top + (bottom - top) * sy;
    }

    /// <summary>Sum of octaves, each twice the frequency and half the amplitude; normalised to about [-1, 1].</summary>
    public float Fractal(float x, float y, int octaves)
    {
        float sum = 0, amplitude = 1, norm = 0;
        for (int o = 0; o < octaves; o++)
        {
            // Offsetting each octave keeps lattice points of different octaves from lining up.
            sum += amplitude * Sample(x + 17.3f * o, y - 9.1f * o);
            norm += amplitude;
            amplitude *= 0.5f;
            x *= 2;
            y *= 2;
        }
        return sum / norm;
    }

    /// <summary>
    /// A smooth field f(x, y) at every pixel centre of a size×size image, evaluated on a grid every
    /// <paramref name="step"/> pixels and interpolated bilinearly: for low-frequency noise this is visually the same
    /// and many times cheaper.
    /// </summary>
    public static float[] CoarseField(int size, int step, Func<float, float, float> f)
    {
        int cells = size / step + 2;
        var grid = new float[cells * cells];
        for (int gy = 0; gy < cells; gy++)
            for (int gx = 0; gx < cells; gx++) grid[gy * cells + gx] = f(gx * step, gy * step);
        var field = new float[size * size];
        for (int y = 0; y < size; y++)
        {
            float fy = (y + 0.5f) / step;
            int gy = (int)fy;
            float ty = fy - gy;
            for (int x = 0; x < size; x++)
            {
                float fx = (x + 0.5f) / step;
                int gx = (int)fx;
                float tx = fx - gx;
                int k = gy * cells + gx;
                float top = grid[k] + tx * (grid[k + 1] - grid[k]);
                float bottom = grid[k + cells] + tx * (grid[k + cells + 1] - grid[k + cells]);
                field[y * size + x] = top + ty * (bottom - top);
            }
        }
        return field;
    }
}
