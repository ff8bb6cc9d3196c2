using Vigil.Backbones;
using Vigil.Data;
using Vigil.Training;

namespace Vigil.Detectors;

/// <summary>
/// Produces a fitted <see cref="IDetector"/> from training data. Two kinds share this contract: one pass over frozen
/// features then a finalise step (PatchCore, PaDiM, SPADE: <see cref="FrozenFeatures.FrozenFeatureTrainer{TDetector}"/>),
/// and gradient training over epochs. A trainer is made by its module from the model's options and may be used once.
/// </summary>
public interface IDetectorTrainer
{
    /// <summary>
    /// Fits on <paramref name="data"/>. Too few or unusable images are a <see cref="VigilInputException"/>; a cancelled
    /// <see cref="TrainingContext.Cancel"/> token ends it with an <see cref="OperationCanceledException"/>.
    /// </summary>
    IDetector Fit(TrainingData data, TrainingContext context);
}

/// <summary>
/// The continual-learning capability: a trainer that adds a new task's data to what a detector already knows instead
/// of replacing it (the IM-IAD continual setting). Fitting task A then task B with <see cref="FitMore"/> gives a
/// detector of A and B, as each method defines it.
/// </summary>
public interface IContinualTrainer : IDetectorTrainer
{
    /// <summary>
    /// Learns <paramref name="data"/> on top of <paramref name="fitted"/> (null: start from nothing, keeping what later
    /// calls need). Returns the detector that knows both: <paramref name="fitted"/> updated in place, or a new one (then
    /// the caller disposes <paramref name="fitted"/>). On failure <paramref name="fitted"/> stays usable.
    /// </summary>
    IDetector FitMore(IDetector? fitted, TrainingData data, TrainingContext context);
}

/// <summary>What a trainer learns from.</summary>
/// <param name="Normal">Normal training images (with a noisy setting, also the anomalies injected unlabelled).</param>
public sealed record TrainingData(IReadOnlyList<Sample> Normal)
{
    /// <summary>Labelled anomalies (with masks where known), given only to detectors that declare <see cref="DetectorCapabilities.Supervised"/>.</summary>
    public IReadOnlyList<Sample> Anomalies { get; init; } = [];

    /// <summary>Normal images held back from fitting (e.g. for early stopping); never test images.</summary>
    public IReadOnlyList<Sample> Validation { get; init; } = [];
}

/// <summary>Everything a trainer gets besides data and options.</summary>
/// <param name="Seed">Seeds every random choice of the fit; the same seed, data and options give the same detector.</param>
/// <param name="Backbone">Opens the frozen backbone the run chose, returning the layers the detector reads.</param>
/// <param name="Progress">Receives phase, (done, total) and details (e.g. losses) as the fit goes.</param>
/// <param name="Cancel">Stops the fit (Ctrl+C, a server shutting down, a worker losing its job); a gradient training first
/// saves a checkpoint to <see cref="Checkpoints"/>.</param>
/// <param name="Checkpoints">Where a gradient training keeps its checkpoint and resumes from; null trains without checkpoints.</param>
public sealed record TrainingContext(long Seed, IBackboneProvider Backbone, IProgress<WorkProgress>? Progress = null, CancellationToken Cancel = default,
    ICheckpointStore? Checkpoints = null);
