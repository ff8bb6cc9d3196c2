using Vigil.Detectors.DevNet;
using Vigil.Detectors.Options;

namespace Vigil.Detectors.Dra;

/// <summary>DRA settings; defaults follow the official code (Choubo/DRA, train.py and its modules).</summary>
public sealed record DraOptions : DeviationNetworkOptions
{
    // train.py: 30 epochs; the rest is DevNet's (DeviationNetworkOptions).
    public DraOptions() => Epochs = 30;

    protected override string Method => "DRA";

    [Option("references", "Normal reference images whose mean feature map the latent-residual head subtracts in training (nRef 5).")]
    public int References { get; init; } = 5;

    [Option("pseudo_rate", "Chance that a normal training image becomes a CutMix pseudo anomaly (0.5: random.randint(0, 1) == 0).")]
    public double PseudoRate { get; init; } = 0.5;

    [Option("jitter", "CutMix's ColorJitter strength for brightness, contrast, saturation and hue (0.1).")]
    public double Jitter { get; init; } = 0.1;

    public override void Validate()
    {
        base.Validate();
        if (BatchSize < 2) throw new VigilInputException($"DRA batch={BatchSize} must be at least 2: half normal images, half labelled anomalies.");
        if (TopK == 0) throw new VigilInputException("DRA topk=0 is not allowed: every head averages its largest |score|s (0.1 in the paper).");
        if (References < 1) throw new VigilInputException($"DRA references={References} must be at least 1 (5 in the paper).");
        if (PseudoRate is < 0 or > 1) throw new VigilInputException($"DRA pseudo_rate={PseudoRate} must be in [0, 1] (0.5 in the paper).");
        if (Jitter is < 0 or > 0.5) throw new VigilInputException($"DRA jitter={Jitter} must be in [0, 0.5] (0.1 in the paper).");
    }
}
