using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Stpm;

/// <summary>How STPM combines the per-layer maps.</summary>
public enum LayerCombination { Product, Sum }

/// <summary>STPM settings; defaults follow the official code (gdwang08/STFPM, main.py).</summary>
public sealed record StpmOptions : GradientTrainingOptions
{
    public StpmOptions()
    {
        // main.py: SGD(lr 0.4, momentum 0.9, weight_decay 1e-4), 100 epochs, batch 32, 20 % of the normal images for validation,
        // the epoch with the lowest mean validation map kept.
        Epochs = 100;
        BatchSize = 32;
        Optimizer = OptimizerKind.Sgd;
        LearningRate = 0.4;
        Momentum = 0.9;
        WeightDecay = 1e-4;
        ValidationRatio = 0.2;
    }

    [Option("layers", "Teacher layers the student learns to reproduce (layer1+layer2+layer3 in the paper).")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("combine", "How the per-layer maps make the anomaly map (product in the official code; sum in the paper's text).")]
    public LayerCombination Combine { get; init; } = LayerCombination.Product;

    [Option("sigma", "σ (network-input pixels) of a Gaussian smoothing of the map; 0 = none, as the official code.")]
    public double MapSigma { get; init; }

    public override void Validate()
    {
        base.Validate();
        if (Layers.Count == 0) throw new VigilInputException("STPM needs at least one layer (layer1+layer2+layer3 in the paper).");
        if (MapSigma < 0) throw new VigilInputException($"STPM sigma={MapSigma} must not be negative (0 = no smoothing).");
    }
}
