namespace Vigil.Randomness;

/// <summary>
/// Vigil's one seeded random source: SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference constants). Tiny, fast
/// and fully specified, so the same seed gives the same numbers on every .NET version (System.Random's seeded
/// sequence is an implementation detail that .NET may change). Splits, settings, synthetic data, augmentations and
/// detectors draw from it; <see cref="Derive(ulong, string)"/> gives independent named sub-streams of one seed.
/// </summary>
public sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spareGaussian;

    public ulong NextUInt64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform in [0, <paramref name="bound"/>); modulo bias below 2^-50 for bounds up to 2^14.</summary>
    public long NextInt64(long bound) => (long)(NextUInt64() % (ulong)bound);

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

    /// <summary>Fisher–Yates shuffle in place, drawing from a generator seeded with <paramref name="seed"/>.</summary>
    public static void Shuffle<T>(T[] items, ulong seed)
    {
        var random = new SeededRandom(seed);
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)random.NextInt64(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>An independent generator for a named sub-stream (scene, defect, sensor noise, a detector's coreset…).</summary>
    public static SeededRandom Stream(ulong seed, string name) => new(Derive(seed, name));

    /// <summary>Mixes a label into a seed (FNV-1a over the label, then the SplitMix64 finaliser).</summary>
    public static ulong Derive(ulong seed, string label)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in label) h = (h ^ c) * 0x100000001B3UL;
        return Mix(seed ^ Mix(h));
    }

    public static ulong Derive(ulong seed, long value) => Mix(seed ^ Mix((ulong)value + 0x9E3779B97F4A7C15UL));

    /// <summary>SplitMix64's finaliser: a bijective 64-bit mix, also the stateless hash procedural noise is built from.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
