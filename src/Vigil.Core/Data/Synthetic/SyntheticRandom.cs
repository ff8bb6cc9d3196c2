namespace Vigil.Data.Synthetic;

/// <summary>
/// SplitMix64 generator: tiny, fast and fully specified, so the same seed gives the same numbers on every .NET
/// version (System.Random's algorithm is an implementation detail). Also provides the stateless hashes the
/// procedural noise and the per-image seeds are built from.
/// </summary>
internal sealed class SyntheticRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spareGaussian;

    public ulong NextUInt64() => Finalize(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Standard normal by Box–Muller; the pair's second value is kept for the next call.</summary>
    public double Gaussian()
    {
        if (_spareGaussian is { } spare)
        {
            _spareGaussian = null;
            return spare;
        }
        double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble())); // 1 − u is in (0, 1], so the log is finite
        var (sin, cos) = Math.SinCos(2 * Math.PI * NextDouble());
        _spareGaussian = radius * sin;
        return radius * cos;
    }

    /// <summary>
    /// Approximately standard normal (Irwin–Hall: the sum of four 16-bit uniforms from one draw, centred and scaled
    /// to unit variance). Several times cheaper than <see cref="Gaussian"/>; good enough for sensor noise.
    /// </summary>
    public float FastGaussian()
    {
        ulong bits = NextUInt64();
        uint sum = (uint)(bits & 0xFFFF) + (uint)((bits >> 16) & 0xFFFF) + (uint)((bits >> 32) & 0xFFFF) + (uint)(bits >> 48);
        // Each uniform has variance 1/12, so the sum of four has variance 1/3: scale by √3.
        return (sum * (1f / 65536) - 2f) * 1.7320508f;
    }

    /// <summary>An independent generator for a named sub-stream (scene, defect, sensor noise).</summary>
    public static SyntheticRandom Stream(ulong seed, string name) => new(Derive(seed, name));

    /// <summary>Mixes a label into a seed (FNV-1a over the label, then the SplitMix64 finaliser).</summary>
    public static ulong Derive(ulong seed, string label)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in label) h = (h ^ c) * 0x100000001B3UL;
        return Finalize(seed ^ Finalize(h));
    }

    public static ulong Derive(ulong seed, long value) => Finalize(seed ^ Finalize((ulong)value + 0x9E3779B97F4A7C15UL));

    /// <summary>Hash of a lattice point, in [-1, 1]: the random values procedural noise interpolates.</summary>
    public static float Lattice(ulong seed, int x, int y)
    {
        ulong h = Finalize(seed + (ulong)(uint)x * 0x9E3779B97F4A7C15UL + (ulong)(uint)y * 0xC2B2AE3D27D4EB4FUL);
        return (float)((h >> 40) * (2.0 / (1UL << 24)) - 1.0);
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Smooth value noise and its fractal sum: seeded, stateless, stationary.</summary>
internal readonly struct ValueNoise(ulong seed)
{
    /// <summary>Noise in [-1, 1] with features about one unit wide.</summary>
    public float Sample(float x, float y)
    {
        int ix = (int)MathF.Floor(x), iy = (int)MathF.Floor(y);
        float fx = x - ix, fy = y - iy;
        float sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
        float a = SyntheticRandom.Lattice(seed, ix, iy), b = SyntheticRandom.Lattice(seed, ix + 1, iy);
        float c = SyntheticRandom.Lattice(seed, ix, iy + 1), d = SyntheticRandom.Lattice(seed, ix + 1, iy + 1);
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
