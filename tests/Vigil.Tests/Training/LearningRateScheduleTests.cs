using Vigil.Detectors.Stpm;
using Vigil.Training;

namespace Vigil.Tests.Training;

/// <summary>The schedule's warm-up start, cosine floor, held cosine, whole-run cosine, multistep and poly decay, against the formulas they reproduce.</summary>
public class LearningRateScheduleTests
{
    /// <summary>
    /// CFlow's main.py and custom_models/utils.py (lr 2·10⁻⁴, 25 meta epochs of 8 sub-epochs, warm-up over 2 meta epochs
    /// from lr/10, cosine to lr·0.1³ per meta epoch), written out as the reference code computes it, for every batch of
    /// a run with 3 batches per sub-epoch; Vigil's epoch e is sub-epoch e mod 8 of meta epoch ⌊e/8⌋.
    /// </summary>
    [Fact]
    public void CFlowsWarmUpAndCosineAreExpressedByTheSharedOptions()
    {
        const double lr = 2e-4;
        const int meta = 25, sub = 8, batches = 3, warmMeta = 2;
        double etaMin = lr * Math.Pow(0.1, 3);
        double warmupTo = etaMin + (lr - etaMin) * (1 + Math.Cos(Math.PI * warmMeta / meta)) / 2;
        var options = new StpmOptions
        {
            LearningRate = lr, Epochs = meta * sub, Schedule = ScheduleKind.Cosine, MinLearningRate = 1e-3, CosineEvery = sub,
            CosineFromStart = true, WarmupEpochs = warmMeta * sub, WarmupFrom = 0.1,
        };
        for (int epoch = 0; epoch < meta; epoch++)
            for (int subEpoch = 0; subEpoch < sub; subEpoch++)
                for (int i = 0; i < batches; i++)
                {
                    double expected = etaMin + (lr - etaMin) * (1 + Math.Cos(Math.PI * epoch / meta)) / 2; // adjust_learning_rate
                    if (epoch < warmMeta)                                                                    // warmup_learning_rate
                    {
                        double p = (i + subEpoch * batches + epoch * batches * sub) / (double)(warmMeta * batches * sub);
                        expected = lr / 10 + p * (warmupTo - lr / 10);
                    }
                    Assert.Equal(expected, LearningRateSchedule.At(options, epoch * sub + subEpoch, (double)i / batches), 15);
                }
    }

    [Fact]
    public void DefaultsKeepTheWarmUpFromZeroToTheRateAndTheCosineAfterTheWarmUpToZero()
    {
        var cosine = new StpmOptions { LearningRate = 1, Epochs = 10, WarmupEpochs = 2, Schedule = ScheduleKind.Cosine };
        Assert.Equal(0.25, LearningRateSchedule.At(cosine, 0, 0.5), 12);
        Assert.Equal(1, LearningRateSchedule.At(cosine, 2, 0), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 7.5 / 8)), LearningRateSchedule.At(cosine, 9, 0.5), 12);

        var held = cosine with { MinLearningRate = 0.2, CosineEvery = 4, WarmupFrom = 0.5 };
        Assert.Equal(0.75, LearningRateSchedule.At(held, 1, 0), 12);   // halfway from 0.5 to 1
        Assert.Equal(1, LearningRateSchedule.At(held, 5, 0.5), 12);    // held for 4 epochs from the warm-up's end
        Assert.Equal(0.2 + 0.8 * 0.5 * (1 + Math.Cos(Math.PI * 4 / 8)), LearningRateSchedule.At(held, 6, 0), 12);
        Assert.Equal(0.2 + 0.8 * 0.5 * (1 + Math.Cos(Math.PI * 4 / 8)), LearningRateSchedule.At(held, 9, 0.99), 12);
    }

    [Theory]
    [InlineData("warmup_from=-0.1", "warmup_from")]
    [InlineData("min_lr=1.5", "min_lr")]
    [InlineData("cosine_every=-1", "cosine_every")]
    public void BadScheduleOptionsAreClearErrors(string option, string key) =>
        Assert.Contains(key, Assert.Throws<VigilInputException>(() => Vigil.Registry.DetectorRegistry.Parse("stpm:" + option)).Message);

    /// <summary>
    /// torch's MultiStepLR([0.8·700, 0.9·700], gamma 0.2) stepped per epoch, as DRAEM's train_DRAEM.py: epochs 0 … 559
    /// at lr, 560 … 629 at 0.2·lr, 630 … 699 at 0.04·lr.
    /// </summary>
    [Fact]
    public void MultiStepMultipliesByGammaAtEachMilestone()
    {
        var options = new Vigil.Detectors.Draem.DraemOptions { LearningRate = 1 };
        Assert.Equal([560, 630], options.MilestoneEpochs);
        Assert.Equal(1, LearningRateSchedule.At(options, 559, 0.99), 12);
        Assert.Equal(0.2, LearningRateSchedule.At(options, 560, 0), 12);
        Assert.Equal(0.2, LearningRateSchedule.At(options, 629, 0.5), 12);
        Assert.Equal(0.04, LearningRateSchedule.At(options, 630, 0), 12);
        Assert.Equal(0.04, LearningRateSchedule.At(options, 699, 0.9), 12);
        Assert.Equal([48, 54], (options with { Epochs = 60 }).MilestoneEpochs); // the cpu variant: ⌈0.8·60⌉, ⌈0.9·60⌉
        Assert.Contains("milestone", Assert.Throws<VigilInputException>(() => Vigil.Registry.DetectorRegistry.Parse("draem:milestones=0.8+1.5")).Message,
            StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// IGD's poly_lr_scheduler, called before every iteration: lr · (1 − iter / max_iter)^0.9 over all iterations of
    /// the run; with 10 epochs of 4 steps, step k of epoch e is iteration 4e + k of 40.
    /// </summary>
    [Fact]
    public void PolyDecaysPerStepToTheNinetiethPowerOfTheRemainingShare()
    {
        var options = new Vigil.Detectors.Igd.IgdOptions { LearningRate = 1, Epochs = 10 };
        Assert.Equal(ScheduleKind.Poly, options.Schedule);
        for (int iteration = 0; iteration < 40; iteration++)
            Assert.Equal(Math.Pow(1 - iteration / 40.0, 0.9), LearningRateSchedule.At(options, iteration / 4, iteration % 4 / 4.0), 12);
        Assert.Equal(Math.Pow(0.5, 2), LearningRateSchedule.At(options with { PolyPower = 2 }, 5, 0), 12);
        Assert.Contains("poly_power", Assert.Throws<VigilInputException>(() => Vigil.Registry.DetectorRegistry.Parse("igd:poly_power=0")).Message);
    }
}
