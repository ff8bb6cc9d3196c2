namespace Vigil.Data;

/// <summary>How a dataset shipped without a train/test split is split: the fraction of normal images used for training, and the seed.</summary>
/// <param name="TrainRatio">Fraction of the normal images that go to training, in (0, 1); the rest are held out for testing.</param>
/// <param name="Seed">Seed of the shuffle; the same seed always gives the same split.</param>
public sealed record SplitOptions(double TrainRatio = SplitOptions.DefaultTrainRatio, int Seed = SplitOptions.DefaultSeed)
{
    /// <summary>80 % of normal images train, 20 % test (IM-IAD releases no MTD split script; see docs/datasets.md).</summary>
    public const double DefaultTrainRatio = 0.8;
    public const int DefaultSeed = 0;
    public static SplitOptions Default { get; } = new();
}

/// <summary>
/// The IM-IAD protocol for datasets without an official split (MTD, KolektorSDD, user folders): normal images are
/// shuffled with a seed and divided train/test by a ratio; every anomalous image goes to the test set.
/// </summary>
public static class SeededSplit
{
    public static DatasetSplit Split(string dataset, string category, IEnumerable<Sample> normal, IEnumerable<Sample> anomalous, SplitOptions options)
    {
        if (!(options.TrainRatio > 0 && options.TrainRatio < 1))
            throw new VigilInputException($"Train ratio {options.TrainRatio} is out of range: it is the fraction of normal images used for training and must be strictly between 0 and 1 (e.g. 0.8).");
        // Sorting first makes the result independent of the order the caller listed the files in.
        var normals = normal.OrderBy(s => s.SourcePath, StringComparer.Ordinal).ToArray();
        if (normals.Length < 2)
            throw new VigilInputException($"Dataset '{dataset}' category '{category}' has {normals.Length} normal image(s); splitting needs at least 2 (one to train on, one to test). Add normal images.");
        Shuffle(normals, options.Seed);
        int trainCount = Math.Clamp((int)Math.Round(options.TrainRatio * normals.Length, MidpointRounding.AwayFromZero), 1, normals.Length - 1);
        var train = normals[..trainCount].OrderBy(s => s.SourcePath, StringComparer.Ordinal).ToList();
        var test = normals[trainCount..].OrderBy(s => s.SourcePath, StringComparer.Ordinal)
            .Concat(anomalous.OrderBy(s => s.SourcePath, StringComparer.Ordinal)).ToList();
        return new DatasetSplit(dataset, category, train, test);
    }

    /// <summary>Fisher–Yates with SplitMix64: a generator fixed here (not System.Random, whose seeded sequence .NET may change) so splits stay the same across runtimes.</summary>
    internal static void Shuffle<T>(T[] items, int seed)
    {
        var rng = new SplitMix64((ulong)(uint)seed);
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)(rng.Next() % (ulong)(i + 1)); // modulo bias < 2^-50 for any realistic dataset size
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference constants): small, fast, fully specified.</summary>
internal struct SplitMix64(ulong state)
{
    private ulong _state = state;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
