using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Cfa;

/// <summary>CFA settings; defaults follow the official code (sungwool/CFA_for_anomaly_localization, trainer_cfa.py and utils/cfa.py).</summary>
public sealed record CfaOptions : GradientTrainingOptions
{
    public CfaOptions()
    {
        // trainer_cfa.py: AdamW(lr 1e-3, weight_decay 5e-4, amsgrad=True) over the descriptor and r, 30 epochs, batch 4.
        Epochs = 30;
        BatchSize = 4;
        Optimizer = OptimizerKind.AdamW;
        LearningRate = 1e-3;
        WeightDecay = 5e-4;
        ValidationRatio = 0;
    }

    [Option("amsgrad", "AdamW's AMSGrad variant (on in the official code).")]
    public override bool AmsGrad { get; init; } = true;

    [Option("layers", "Backbone layers whose 3×3-averaged features are concatenated on the first one's grid (layer1+layer2+layer3 for ResNet18, 448 channels).")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("gamma_d", "The descriptor (a 1×1 CoordConv) maps the concatenated features to ⌊channels / gamma_d⌋ dimensions (1: the official default, used for ResNet18).")]
    public int GammaD { get; init; } = 1;

    [Option("gamma_c", "The memory keeps ⌊positions / gamma_c⌋ centroids: 1 = one per grid position (the official default), more = k-means over the per-position centroids.")]
    public int GammaC { get; init; } = 1;

    [Option("k", "K: nearest centroids each feature is attracted to (and the softmin of the score runs over) (3).")]
    public int Nearest { get; init; } = 3;

    [Option("j", "J: the next-nearest centroids, hard negatives each feature is repelled from (3).")]
    public int HardNegatives { get; init; } = 3;

    [Option("alpha", "α: margin of the repulsion, a hard negative's squared distance is pushed beyond r² − α (0.1).")]
    public double Alpha { get; init; } = 0.1;

    [Option("nu", "ν: both loss terms are scaled by 1/ν (1e-3).")]
    public double Nu { get; init; } = 1e-3;

    [Option("radius", "Initial value of the trained hypersphere radius r (1e-5).")]
    public double Radius { get; init; } = 1e-5;

    [Option("sigma", "σ (network-input pixels) of the Gaussian smoothing of the upsampled map (4).")]
    public double MapSigma { get; init; } = 4;

    public override void Validate()
    {
        base.Validate();
        if (Layers.Count == 0) throw new VigilInputException("CFA needs at least one layer (layer1+layer2+layer3 in the paper).");
        if (GammaD < 1) throw new VigilInputException($"CFA gamma_d={GammaD} must be at least 1.");
        if (GammaC < 1) throw new VigilInputException($"CFA gamma_c={GammaC} must be at least 1.");
        if (Nearest < 1) throw new VigilInputException($"CFA k={Nearest} must be at least 1.");
        if (HardNegatives < 0) throw new VigilInputException($"CFA j={HardNegatives} must not be negative.");
        if (Alpha < 0) throw new VigilInputException($"CFA alpha={Alpha} must not be negative.");
        if (!(Nu > 0)) throw new VigilInputException($"CFA nu={Nu} must be positive.");
        if (MapSigma < 0) throw new VigilInputException($"CFA sigma={MapSigma} must not be negative (0 = no smoothing).");
    }
}
