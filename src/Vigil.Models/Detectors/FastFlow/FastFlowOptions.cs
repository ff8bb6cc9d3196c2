using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.FastFlow;

/// <summary>FastFlow settings; defaults follow gathierry/FastFlow (constants.py, fastflow.py) and anomalib's ResNet18 configuration.</summary>
public sealed record FastFlowOptions : GradientTrainingOptions
{
    public FastFlowOptions()
    {
        // constants.py: NUM_EPOCHS 500, BATCH_SIZE 32, Adam(lr 1e-3, weight_decay 1e-5); open-iad's fastflow.yaml the same.
        Epochs = 500;
        BatchSize = 32;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 1e-3;
        WeightDecay = 1e-5;
    }

    [Option("layers", "Backbone layers, one flow each (timm features_only out_indices=[1, 2, 3]: layer1-3).")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("flow_steps", "Coupling blocks per flow (8 for ResNet18).")]
    public int FlowSteps { get; init; } = 8;

    [Option("hidden_ratio", "Hidden channels of a subnet per input channel (1.0 for ResNet18).")]
    public double HiddenRatio { get; init; } = 1.0;

    [Option("conv3x3_only", "3×3 convolutions in every subnet; false alternates 3×3 and 1×1 (anomalib's ResNet18 config; gathierry's resnet18.yaml sets true).")]
    public bool Conv3x3Only { get; init; }

    [Option("clamp", "Soft clamping of the coupling's log-scale (2.0).")]
    public double Clamp { get; init; } = 2.0;

    [Option("sigma", "σ (network-input pixels) of a Gaussian smoothing of the map; 0 = none, as the reference.")]
    public double MapSigma { get; init; }

    public override void Validate()
    {
        base.Validate();
        if (Layers.Count == 0) throw new VigilInputException("FastFlow needs at least one layer (layer1+layer2+layer3 for ResNet18).");
        if (FlowSteps < 1) throw new VigilInputException($"FastFlow flow_steps={FlowSteps} must be at least 1 (8 in the reference).");
        if (!(HiddenRatio > 0)) throw new VigilInputException($"FastFlow hidden_ratio={HiddenRatio} must be positive (1.0 in the reference).");
        if (!(Clamp > 0)) throw new VigilInputException($"FastFlow clamp={Clamp} must be positive (2.0 in the reference).");
        if (MapSigma < 0) throw new VigilInputException($"FastFlow sigma={MapSigma} must not be negative (0 = no smoothing).");
    }
}
