namespace Vigil.Training;

/// <summary>The learning rate of each step: linear warm-up over the first epochs, then constant, step or cosine decay.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// The rate at <paramref name="epoch"/> (0-based) plus the fraction <paramref name="progress"/> ∈ [0, 1) of it done:
    /// warm-up rises linearly per step from 0; the step schedule changes at epoch boundaries; the cosine schedule
    /// falls from the rate to 0 over the epochs after warm-up (per step, as torch's per-iteration cosine).
    /// </summary>
    public static double At(GradientTrainingOptions options, int epoch, double progress)
    {
        double t = epoch + progress;
        if (t < options.WarmupEpochs) return options.LearningRate * t / options.WarmupEpochs;
        double after = t - options.WarmupEpochs, length = options.Epochs - options.WarmupEpochs;
        return options.Schedule switch
        {
            ScheduleKind.Step => options.LearningRate * Math.Pow(options.Gamma, (epoch - options.WarmupEpochs) / options.StepSize),
            ScheduleKind.Cosine => options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * after / length)),
            _ => options.LearningRate,
        };
    }
}
