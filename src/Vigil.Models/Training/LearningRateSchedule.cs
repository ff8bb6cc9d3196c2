namespace Vigil.Training;

/// <summary>The learning rate of each step: linear warm-up over the first epochs, then constant, step, multistep, cosine or polynomial decay.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// The rate at <paramref name="epoch"/> (0-based) plus the fraction <paramref name="progress"/> ∈ [0, 1) of it done.
    /// Warm-up rises linearly per step from warmup_from · lr to the schedule's rate at the warm-up's end. The step
    /// and multistep schedules change at epoch boundaries. The cosine schedule falls from lr to min_lr · lr, per step (as torch's
    /// per-iteration cosine) or held for cosine_every epochs at a time, over the epochs after warm-up, or with
    /// cosine_from_start over all epochs (CFlow's SupCon-style schedule: <c>adjust_learning_rate</c> per meta epoch,
    /// <c>warmup_learning_rate</c> rising to the cosine's value at the warm-up's end).
    /// </summary>
    public static double At(GradientTrainingOptions options, int epoch, double progress)
    {
        double t = epoch + progress;
        if (t >= options.WarmupEpochs) return AfterWarmup(options, t);
        double from = options.WarmupFrom * options.LearningRate;
        return from + t / options.WarmupEpochs * (AfterWarmup(options, options.WarmupEpochs) - from);
    }

    /// <summary>The schedule's rate at time <paramref name="t"/> (epochs), warm-up aside.</summary>
    private static double AfterWarmup(GradientTrainingOptions options, double t)
    {
        int warmup = options.WarmupEpochs;
        switch (options.Schedule)
        {
            case ScheduleKind.Step:
                return options.LearningRate * Math.Pow(options.Gamma, ((int)Math.Floor(t) - warmup) / options.StepSize);
            case ScheduleKind.MultiStep:
                return options.LearningRate * Math.Pow(options.Gamma, options.MilestoneEpochs.Count(m => (int)Math.Floor(t) >= m));
            case ScheduleKind.Cosine:
                double start = options.CosineFromStart ? 0 : warmup;
                double held = options.CosineEvery > 0 ? start + Math.Floor((t - start) / options.CosineEvery) * options.CosineEvery : t;
                double done = (held - start) / (options.Epochs - start);
                double min = options.MinLearningRate * options.LearningRate;
                return min + (options.LearningRate - min) * 0.5 * (1 + Math.Cos(Math.PI * done));
            case ScheduleKind.Poly:
                double left = 1 - (t - warmup) / (options.Epochs - warmup);
                return options.LearningRate * Math.Pow(Math.Max(left, 0), options.PolyPower);
            default:
                return options.LearningRate;
        }
    }
}
