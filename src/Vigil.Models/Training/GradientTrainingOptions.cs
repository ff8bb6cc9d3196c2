using Vigil.Detectors.Options;
using Vigil.Settings;

namespace Vigil.Training;

public enum OptimizerKind { Sgd, Adam, AdamW }

public enum ScheduleKind
{
    /// <summary>The learning rate stays as given.</summary>
    Constant,

    /// <summary>Multiplied by gamma every step_size epochs.</summary>
    Step,

    /// <summary>Cosine annealing from the learning rate to 0 over the epochs after warm-up.</summary>
    Cosine,

    /// <summary>Multiplied by gamma at each milestone (a fraction of the epochs), as torch's MultiStepLR stepped per epoch.</summary>
    MultiStep,

    /// <summary>Polynomial decay per step, lr · (1 − t / epochs)^power (IGD's poly_lr_scheduler).</summary>
    Poly,
}

/// <summary>Which weights a finished training keeps.</summary>
public enum KeepWeights
{
    /// <summary>Those of the epoch with the lowest validation loss (the last epoch's without validation images).</summary>
    Best,

    /// <summary>Those of the last epoch.</summary>
    Last,
}

/// <summary>
/// The options every gradient-trained detector shares (epochs, batch, optimizer, schedule, validation, checkpoints),
/// each settable by key like any detector option (<c>-m stpm:epochs=50,lr=0.4,batch=16</c>). A detector's options
/// record derives from this and sets its reference code's values as the defaults.
/// </summary>
public abstract record GradientTrainingOptions : IDetectorOptions
{
    [Option("epochs", "Passes over the training images.")]
    public int Epochs { get; init; } = 100;

    [Option("batch", "Training images per step.")]
    public int BatchSize { get; init; } = 32;

    [Option("optimizer", "The optimizer.")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    [Option("lr", "Learning rate (at the end of the warm-up).")]
    public double LearningRate { get; init; } = 1e-3;

    [Option("momentum", "SGD momentum.")]
    public double Momentum { get; init; }

    [Option("beta1", "Adam/AdamW β1.")]
    public double Beta1 { get; init; } = 0.9;

    [Option("beta2", "Adam/AdamW β2.")]
    public double Beta2 { get; init; } = 0.999;

    /// <summary>
    /// Adam/AdamW's AMSGrad variant; off, and an option only of the detectors whose reference code turns it on (CFA),
    /// so the other detectors' option sets (and cell identities) stay as they are.
    /// </summary>
    public virtual bool AmsGrad { get; init; }

    [Option("weight_decay", "Weight decay (L2 for SGD and Adam, decoupled for AdamW).")]
    public double WeightDecay { get; init; }

    [Option("schedule", "Learning-rate schedule after the warm-up.")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;

    [Option("step_size", "With the step schedule: epochs between multiplications by gamma.")]
    public int StepSize { get; init; } = 30;

    [Option("gamma", "With the step schedule: the factor.")]
    public double Gamma { get; init; } = 0.1;

    /// <summary>
    /// With the multistep schedule: the epochs, as fractions of all epochs, at which the rate is multiplied by gamma;
    /// an option only of the detectors whose reference code uses that schedule (DRAEM), so the other detectors' option
    /// sets (and cell identities) stay as they are.
    /// </summary>
    public virtual string Milestones { get; init; } = "";

    /// <summary>The epochs <see cref="Milestones"/> names: ⌈fraction · epochs⌉ each, in order.</summary>
    public IReadOnlyList<int> MilestoneEpochs => Milestones.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(text => double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double f) && f is > 0 and < 1
            ? (int)Math.Ceiling(f * Epochs - 1e-9)
            : throw new VigilInputException($"Milestone '{text}' must be a fraction of the epochs in (0, 1), milestones joined with '+' (e.g. 0.8+0.9)."))
        .Order().ToArray();

    /// <summary>
    /// With the poly schedule: the power of (1 − t / epochs); an option only of the detectors whose reference code uses
    /// that schedule (IGD), so the other detectors' option sets (and cell identities) stay as they are.
    /// </summary>
    public virtual double PolyPower { get; init; } = 0.9;

    [Option("warmup", "Epochs of linear warm-up, per step, from warmup_from · lr to the schedule's rate at the warm-up's end.")]
    public int WarmupEpochs { get; init; }

    [Option("warmup_from", "Where the warm-up starts, as a fraction of lr.")]
    public double WarmupFrom { get; init; }

    [Option("min_lr", "With the cosine schedule: the rate it falls to, as a fraction of lr.")]
    public double MinLearningRate { get; init; }

    [Option("cosine_every", "With the cosine schedule: epochs the rate stays constant between its changes; 0 = it changes every step.")]
    public int CosineEvery { get; init; }

    [Option("cosine_from_start", "With the cosine schedule: its clock starts at epoch 0 and spans all epochs (the warm-up rises to where it is at the warm-up's end), instead of starting after the warm-up.")]
    public bool CosineFromStart { get; init; }

    [Option("clip", "Largest gradient norm (clipped above it); none = no clipping.")]
    public double? GradientClip { get; init; }

    [Option("validation", "Share of the normal training images held back to select the best epoch and stop early when the training data brings no validation images; 0 = none.")]
    public double ValidationRatio { get; init; }

    [Option("patience", "Stop after this many epochs without a lower validation loss; none = run every epoch.")]
    public int? Patience { get; init; }

    [Option("keep", "Which weights the finished training keeps.")]
    public KeepWeights Keep { get; init; } = KeepWeights.Best;

    [Option("augment", "Augmentations applied at random to training images (e.g. rotation+flip); none = the images as they are, and frozen features are computed once.")]
    public string Augment { get; init; } = "none";

    [Option("checkpoint_every", "Epochs between checkpoints (an interrupted training resumes from the last one).")]
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>The augmentation kinds <see cref="Augment"/> names.</summary>
    public AugmentationKinds Augmentations => Augment.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? AugmentationKinds.None
        : Augment.Split('+').Aggregate(AugmentationKinds.None, (kinds, name) => kinds | (AugmentationSchedule.ParseKind(name)
            ?? throw new VigilInputException($"Augmentation '{name.Trim()}' is unknown; use {string.Join(", ", AugmentationSchedule.Names.Select(n => n.Name))} joined with '+'.")));

    public virtual void Validate()
    {
        if (Epochs < 1) throw new VigilInputException($"epochs={Epochs} must be at least 1.");
        if (BatchSize < 1) throw new VigilInputException($"batch={BatchSize} must be at least 1.");
        if (!(LearningRate > 0)) throw new VigilInputException($"lr={LearningRate} must be positive.");
        if (Momentum is < 0 or >= 1) throw new VigilInputException($"momentum={Momentum} must be in [0, 1).");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new VigilInputException($"beta1={Beta1}, beta2={Beta2} must be in [0, 1).");
        if (WeightDecay < 0) throw new VigilInputException($"weight_decay={WeightDecay} must not be negative.");
        if (StepSize < 1 || !(Gamma > 0)) throw new VigilInputException($"step_size={StepSize} must be at least 1 and gamma={Gamma} positive.");
        if (WarmupEpochs < 0 || WarmupEpochs >= Epochs) throw new VigilInputException($"warmup={WarmupEpochs} must be in [0, epochs).");
        if (!(WarmupFrom >= 0)) throw new VigilInputException($"warmup_from={WarmupFrom} must not be negative.");
        if (MinLearningRate is < 0 or > 1) throw new VigilInputException($"min_lr={MinLearningRate} must be in [0, 1] (a fraction of lr).");
        if (CosineEvery < 0) throw new VigilInputException($"cosine_every={CosineEvery} must not be negative (0 = every step).");
        if (GradientClip is { } clip && !(clip > 0)) throw new VigilInputException($"clip={clip} must be positive, or none.");
        if (ValidationRatio is < 0 or >= 1) throw new VigilInputException($"validation={ValidationRatio} must be in [0, 1).");
        if (Patience < 1) throw new VigilInputException($"patience={Patience} must be at least 1, or none.");
        if (CheckpointEvery < 1) throw new VigilInputException($"checkpoint_every={CheckpointEvery} must be at least 1.");
        _ = Augmentations;
        if (!(PolyPower > 0)) throw new VigilInputException($"poly_power={PolyPower} must be positive.");
        if (Schedule == ScheduleKind.MultiStep && MilestoneEpochs.Count == 0)
            throw new VigilInputException("The multistep schedule needs milestones (fractions of the epochs joined with '+', e.g. milestones=0.8+0.9).");
    }
}
