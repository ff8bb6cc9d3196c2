using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Dra;

/// <summary>DRA settings; defaults follow the official code (Choubo/DRA, train.py and its modules).</summary>
public sealed record DraOptions : GradientTrainingOptions
{
    public DraOptions()
    {
        // train.py: Adam(lr 2e-4, weight_decay 1e-5), StepLR(step_size 10, gamma 0.1) per epoch, clip_grad_norm_ 1.0,
        // 30 epochs of steps_per_epoch 20 batches of batch_size 48; no validation. datasets/mvtecad.py: RandomRotation(180) in training.
        Epochs = 30;
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

    [Option("steps", "Batches per epoch of normal images (half of them made pseudo anomalies) and labelled anomalies (steps_per_epoch 20).")]
    public int StepsPerEpoch { get; init; } = 20;

    [Option("finetune", "Train the backbone with the heads, as the official code (true); false: only the heads learn, on frozen features.")]
    public bool FineTune { get; init; } = true;

    [Option("scales", "Input scales scored and averaged: the image, then halved sizes (n_scales 2).")]
    public int Scales { get; init; } = 2;

    [Option("topk", "Share of a score map's positions whose largest |score|s are averaged into the image score (topk 0.1).")]
    public double TopK { get; init; } = 0.1;

    [Option("references", "Normal reference images whose mean feature map the latent-residual head subtracts in training (nRef 5).")]
    public int References { get; init; } = 5;

    [Option("pseudo_rate", "Chance that a normal training image becomes a CutMix pseudo anomaly (0.5: random.randint(0, 1) == 0).")]
    public double PseudoRate { get; init; } = 0.5;

    [Option("jitter", "CutMix's ColorJitter strength for brightness, contrast, saturation and hue (0.1).")]
    public double Jitter { get; init; } = 0.1;

    [Option("margin", "Deviation-loss confidence margin (5).")]
    public double Margin { get; init; } = 5;

    [Option("prior_samples", "Samples of the N(0, 1) prior drawn per head and step (5000).")]
    public int PriorSamples { get; init; } = 5000;

    public override void Validate()
    {
        base.Validate();
        if (StepsPerEpoch < 1) throw new VigilInputException($"DRA steps={StepsPerEpoch} must be at least 1 (20 in the paper).");
        if (BatchSize < 2) throw new VigilInputException($"DRA batch={BatchSize} must be at least 2: half normal images, half labelled anomalies.");
        if (Scales is < 1 or > 4) throw new VigilInputException($"DRA scales={Scales} must be in 1..4 (2 in the paper).");
        if (TopK is <= 0 or > 1) throw new VigilInputException($"DRA topk={TopK} must be in (0, 1] (0.1 in the paper).");
        if (References < 1) throw new VigilInputException($"DRA references={References} must be at least 1 (5 in the paper).");
        if (PseudoRate is < 0 or > 1) throw new VigilInputException($"DRA pseudo_rate={PseudoRate} must be in [0, 1] (0.5 in the paper).");
        if (Jitter is < 0 or > 0.5) throw new VigilInputException($"DRA jitter={Jitter} must be in [0, 0.5] (0.1 in the paper).");
        if (!(Margin > 0)) throw new VigilInputException($"DRA margin={Margin} must be positive (5 in the paper).");
        if (PriorSamples < 2) throw new VigilInputException($"DRA prior_samples={PriorSamples} must be at least 2 (5000 in the paper).");
    }
}
