namespace Vigil.Records;

/// <summary>One epoch of gradient training.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="Loss">Mean training loss over the epoch's steps.</param>
/// <param name="ValidationLoss">Mean loss on the held-back normal images after the epoch; null without validation images.</param>
/// <param name="LearningRate">The rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch (validation included); a resumed epoch counts only its resumed part.</param>
public sealed record EpochRecord(int Epoch, double Loss, double? ValidationLoss, double LearningRate, double Seconds);

/// <summary>How a gradient training went: the loss curves, which epoch's weights were kept, and why it stopped.</summary>
/// <param name="PlannedEpochs">The epochs the options asked for.</param>
/// <param name="Epochs">The epochs run (fewer than planned after early stopping).</param>
/// <param name="KeptEpoch">The epoch whose weights the detector holds (1-based).</param>
/// <param name="StopReason">E.g. "all 100 epochs", "no lower validation loss for 10 epochs".</param>
/// <param name="Notes">What happened besides epochs, e.g. "resumed from the checkpoint after epoch 12, step 3".</param>
public sealed record TrainingLog(
    int PlannedEpochs,
    IReadOnlyList<EpochRecord> Epochs,
    int KeptEpoch,
    string StopReason,
    IReadOnlyList<string> Notes,
    int TrainImages,
    int ValidationImages,
    bool FrozenFeaturesCached)
{
    public double Seconds => Epochs.Sum(e => e.Seconds);
}
