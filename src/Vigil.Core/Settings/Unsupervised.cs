using Vigil.Data;

namespace Vigil.Settings;

/// <summary>IM-IAD's vanilla setting (the default): train on the normal training images only; the split as loaded.</summary>
public sealed record Unsupervised : LearningSetting
{
    public override string Name => "unsupervised";
    public override string Spec => "unsupervised";

    public override SettingSplit Apply(DatasetSplit split, int seed) =>
        new(split, new SettingNotes(Name, seed,
            $"Split as loaded: {Counted.Of(split.Train.Count, "training image")}, {Counted.Of(split.Test.Count, "test image")} ({split.TestAnomalousCount} anomalous).",
            [], false, split.Train.Count, split.Test.Count));
}
