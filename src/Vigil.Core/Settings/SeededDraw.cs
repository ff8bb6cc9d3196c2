using Vigil.Data;
using Vigil.Randomness;

namespace Vigil.Settings;

/// <summary>The seeded draws the settings share, so every setting picks images the same reproducible way.</summary>
internal static class SeededDraw
{
    /// <summary>
    /// <paramref name="count"/> samples drawn without replacement: sorted by id first (so the caller's order does not
    /// matter), shuffled with <see cref="SeededRandom"/> as the train/test split is, the first ones taken; returned in id order.
    /// </summary>
    public static List<Sample> Take(IEnumerable<Sample> candidates, int count, int seed)
    {
        var pool = candidates.OrderBy(s => s.Id, StringComparer.Ordinal).ToArray();
        SeededRandom.Shuffle(pool, (ulong)(uint)seed);
        return pool[..count].OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>How many of a category's anomalous test images a setting may take: ⌊0.75 × anomalies⌋ (IM-IAD's upper_ratio, truncated as IM-IAD does).</summary>
    public static int AnomalyCap(int anomalies) => (int)Math.Floor(LearningSettings.AnomalyCapFraction * anomalies);

    /// <summary>The split's samples without the given ones (matched by id), order kept.</summary>
    public static List<Sample> Without(IEnumerable<Sample> samples, IEnumerable<Sample> removed)
    {
        var ids = removed.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        return samples.Where(s => !ids.Contains(s.Id)).ToList();
    }

    public static string Ids(IEnumerable<Sample> samples) => string.Join(", ", samples.Select(s => Path.GetFileName(s.SourcePath)));
}
