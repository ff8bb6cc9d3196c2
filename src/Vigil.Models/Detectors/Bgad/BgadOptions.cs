using Vigil.Detectors.Options;
using Vigil.Detectors.Trained;

namespace Vigil.Detectors.Bgad;

/// <summary>
/// BGAD settings; defaults follow the official code (xcyao00/BGAD: config.py, and scripts.sh's MVTec command, which the
/// paper's numbers come from: --focal_weighting --pos_beta 0.01 --margin_tau 0.1 --num_anomalies 10).
/// </summary>
public sealed record BgadOptions : ConditionalFlowOptions
{
    public BgadOptions()
    {
        // config.py and utils/model_utils.py: CFlow's schedule (ConditionalFlowOptions).
        // timm features_only out_indices [1, 2, 3]: the strides 4, 8, 16 maps (a ResNet's layer1..layer3); bgad_fas_train_engine.py N_batch 4096.
        Layers = ["layer1", "layer2", "layer3"];
        FiberBatch = 4096;
    }

    protected override string Method => "BGAD";

    [Option("pos_beta", "Where the normal boundary sits: the normal log-likelihoods' β-quantile of each fibre batch (0.01 in scripts.sh; config default 0.05).")]
    public double PositionBeta { get; init; } = 0.01;

    [Option("margin_tau", "Margin τ between the normal and the abnormal boundary, in normalised log-likelihood (0.1).")]
    public double MarginTau { get; init; } = 0.1;

    [Option("normalizer", "Divisor of the log-likelihoods in the boundary loss and the focal weights (10).")]
    public double Normalizer { get; init; } = 10;

    [Option("bgspp_lambda", "Weight λ of the boundary-guided semi-push-pull loss beside the maximum-likelihood loss (1).")]
    public double PushPullWeight { get; init; } = 1;

    [Option("focal_weighting", "Asymmetric focal weighting of normal and abnormal positions (on in scripts.sh).")]
    public bool FocalWeighting { get; init; } = true;

    [Option("anomaly_reuse", "Copies of each labelled anomaly in an epoch's pass (data strategy 0: reuse_times 5).")]
    public int AnomalyReuse { get; init; } = 5;

    [Option("normal_epochs", "First epochs trained on the normal images alone with the maximum-likelihood loss (one meta-epoch: 8).")]
    public int NormalOnlyEpochs { get; init; } = 8;

    public override void Validate()
    {
        base.Validate();
        if (PositionBeta is < 0 or >= 1) throw new VigilInputException($"BGAD pos_beta={PositionBeta} must be in [0, 1) (0.01 officially).");
        if (!(MarginTau >= 0)) throw new VigilInputException($"BGAD margin_tau={MarginTau} must not be negative (0.1 officially).");
        if (!(Normalizer > 0)) throw new VigilInputException($"BGAD normalizer={Normalizer} must be positive (10 officially).");
        if (!(PushPullWeight >= 0)) throw new VigilInputException($"BGAD bgspp_lambda={PushPullWeight} must not be negative (1 officially).");
        if (AnomalyReuse < 1) throw new VigilInputException($"BGAD anomaly_reuse={AnomalyReuse} must be at least 1 (5 officially).");
        if (NormalOnlyEpochs < 0 || NormalOnlyEpochs >= Epochs)
            throw new VigilInputException($"BGAD normal_epochs={NormalOnlyEpochs} must be in [0, epochs={Epochs}) so that some epochs see the labelled anomalies (8 officially).");
        if (Augmentations != Settings.AugmentationKinds.None)
            throw new VigilInputException("BGAD learns from its labelled anomalies' masks and trains without augmentation (as data strategy 0): set augment=none.");
    }
}
