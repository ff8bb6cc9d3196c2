using Vigil.Data;

namespace Vigil.Settings;

/// <summary>
/// IM-IAD's fully supervised ("semi") setting: a seeded draw of anomalous test images moves into training with their
/// labels and masks, and leaves the test set. At most ⌊0.75 × the category's anomalous test images⌋ move, so most
/// anomalies stay to be tested. Models that cannot use labels train on <see cref="SettingSplit.NormalTrainOnly"/>.
/// </summary>
/// <param name="Count">Anomalous test images to move, at least 1 (default 10; IM-IAD's config file uses 5).</param>
public sealed record FullySupervised(int Count = FullySupervised.DefaultCount) : LearningSetting
{
    public const int DefaultCount = 10;

    public int Count { get; } = Count >= 1 ? Count
        : throw new VigilInputException($"Fully supervised setting: n={Count} is invalid; n is the number of anomalous test images moved into training and must be at least 1 (default {DefaultCount}).");

    public override string Name => $"supervised-{Count}";
    public override string Spec => $"supervised:n={Count}";

    public override SettingSplit Apply(DatasetSplit split, int seed)
    {
        var anomalies = split.Test.Where(s => s.IsAnomalous).ToList();
        int cap = SeededDraw.AnomalyCap(anomalies.Count);
        int count = Math.Min(Count, cap);
        var moved = SeededDraw.Take(anomalies, count, seed);
        var result = split with { Train = [.. split.Train, .. moved], Test = SeededDraw.Without(split.Test, moved) };
        string summary = $"Moved {count} of {anomalies.Count} anomalous test images into training with their labels and masks"
            + (Count > cap ? $" ({Count} requested; capped at ⌊0.75 × {anomalies.Count}⌋ = {cap})" : "")
            + (count > 0 ? $": {SeededDraw.Ids(moved)}. They are no longer tested." : ".");
        return new SettingSplit(result, new SettingNotes(Name, seed, summary, moved.Select(s => s.Id).ToList(), Count > cap,
            result.Train.Count, result.Test.Count));
    }
}
