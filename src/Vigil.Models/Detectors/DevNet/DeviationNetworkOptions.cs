using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.DevNet;

/// <summary>
/// The options shared by the deviation-loss detectors of Choubo's code (DevNet, and DRA, whose train.py descends from
/// DevNet's); each sets its official epochs in its constructor.
/// </summary>
public abstract record DeviationNetworkOptions : GradientTrainingOptions
{
    protected DeviationNetworkOptions()
    {
        // train.py of both: Adam(lr 2e-4, weight_decay 1e-5), StepLR(step_size 10, gamma 0.1) stepped per epoch,
        // clip_grad_norm_ 1.0, steps_per_epoch batches of batch_size 48; no validation. datasets/mvtecad.py:
        // RandomRotation(180) in training.
        BatchSize = 48;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 2e-4;
        WeightDecay = 1e-5;
        Schedule = ScheduleKind.Step;
        StepSize = 10;
        Gamma = 0.1;
        GradientClip = 1.0;
        Augment = "rotation";
    }

    /// <summary>The method's name in error messages.</summary>
    protected abstract string Method { get; }

    [Option("steps", "Batches per epoch of normal images and labelled anomalies (steps_per_epoch 20).")]
    public int StepsPerEpoch { get; init; } = 20;

    [Option("finetune", "Train the backbone with the scoring head(s), as the official code (true); false: only the head(s) learn, on frozen features computed once.")]
    public bool FineTune { get; init; } = true;

    [Option("scales", "Input scales scored and averaged: the image, then halved sizes (n_scales 2).")]
    public int Scales { get; init; } = 2;

    [Option("topk", "Share of a score map's positions whose largest |score|s are averaged into the image score (topk 0.1); DevNet: 0 = the mean score.")]
    public double TopK { get; init; } = 0.1;

    [Option("margin", "Deviation-loss confidence margin a: anomalies are pushed at least a standard deviations above the prior's mean (5).")]
    public double Margin { get; init; } = 5;

    [Option("prior_samples", "Samples drawn from the N(0, 1) prior per head and step for the reference mean and standard deviation (5000).")]
    public int PriorSamples { get; init; } = 5000;

    public override void Validate()
    {
        base.Validate();
        if (StepsPerEpoch < 1) throw new VigilInputException($"{Method} steps={StepsPerEpoch} must be at least 1 (20 in the paper).");
        if (Scales is < 1 or > 4) throw new VigilInputException($"{Method} scales={Scales} must be in 1..4 (2 in the paper).");
        if (TopK is < 0 or > 1) throw new VigilInputException($"{Method} topk={TopK} must be in [0, 1] (0.1 in the paper).");
        if (!(Margin > 0)) throw new VigilInputException($"{Method} margin={Margin} must be positive (5 in the paper).");
        if (PriorSamples < 2) throw new VigilInputException($"{Method} prior_samples={PriorSamples} must be at least 2 (5000 in the paper).");
    }
}
