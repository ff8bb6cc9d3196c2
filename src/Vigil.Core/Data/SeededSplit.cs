using Vigil.Randomness;

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
            throw new VigilInputException($"Dataset '{dataset}' category '{category}' has {Counted.Of(normals.Length, "normal image")}; splitting needs at least 2 (one to train on, one to test). Add normal images.");
        SeededRandom.Shuffle(normals, (ulong)(uint)options.Seed);
        int trainCount = Math.Clamp((int)Math.Round(options.TrainRatio * normals.Length, MidpointRounding.AwayFromZero), 1, normals.Length - 1);
        var train = normals[..trainCount].OrderBy(s => s.SourcePath, StringComparer.Ordinal).ToList();
        var test = normals[trainCount..].OrderBy(s => s.SourcePath, StringComparer.Ordinal)
            .Concat(anomalous.OrderBy(s => s.SourcePath, StringComparer.Ordinal)).ToList();
        return new DatasetSplit(dataset, category, train, test);
    }
}
