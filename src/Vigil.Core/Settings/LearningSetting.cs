using Vigil.Data;

namespace Vigil.Settings;

/// <summary>
/// One of the IM-IAD learning settings: a seeded transformation of a category's train/test split that every model can
/// run on unchanged. Settings apply to the split a loader produced (the unsupervised one) and return the new split with
/// notes on what they did, to be stored with the result.
/// </summary>
public abstract record LearningSetting
{
    /// <summary>Short, file-name-safe name with the parameters, e.g. "noisy-0.15", "fewshot-8x4-rotation" (the cell key's setting).</summary>
    public abstract string Name { get; }

    /// <summary>The spec <see cref="LearningSettings.Parse"/> turns back into this setting, e.g. "noisy:ratio=0.15".</summary>
    public abstract string Spec { get; }

    /// <summary>The transformed split; the same split and seed always give the same result.</summary>
    public abstract SettingSplit Apply(DatasetSplit split, int seed);

    public sealed override string ToString() => Spec;
}

/// <summary>A split after a setting, with the notes to record beside the result.</summary>
public sealed record SettingSplit(DatasetSplit Split, SettingNotes Notes)
{
    public IReadOnlyList<Sample> Train => Split.Train;
    public IReadOnlyList<Sample> Test => Split.Test;

    /// <summary>Training samples labelled anomalous (fully supervised setting only; noisy injections are labelled normal).</summary>
    public int TrainAnomalousCount => Train.Count(s => s.IsAnomalous);

    /// <summary>
    /// The split with the labelled anomalies left out of training, for models that cannot use labels: they train on the
    /// normal part only (the test set is unchanged, so the moved anomalies are evaluated by nobody).
    /// </summary>
    public DatasetSplit NormalTrainOnly() => Split with { Train = Train.Where(s => !s.IsAnomalous).ToList() };
}

/// <summary>What a setting did to a split, in terms a reader of the result can check.</summary>
/// <param name="Setting">The setting's name.</param>
/// <param name="Seed">The seed it was applied with.</param>
/// <param name="Summary">One or two sentences: what was chosen, moved or injected, with counts and any cap that was hit.</param>
/// <param name="Chosen">
/// The sample ids the seeded draw picked: the k few-shot training images, or the test images moved (supervised) or
/// injected (noisy) into training. Empty for the unsupervised setting.
/// </param>
/// <param name="CapHit">Whether a limit cut the requested number (anomaly cap of 75 %, or fewer training images than k).</param>
/// <param name="TrainCount">Training samples after the setting (augmented variants included).</param>
/// <param name="TestCount">Test samples after the setting.</param>
public sealed record SettingNotes(string Setting, int Seed, string Summary, IReadOnlyList<string> Chosen, bool CapHit, int TrainCount, int TestCount);
