using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Trained;

/// <summary>
/// The options of the detectors built on CFlow-AD's conditional flows (<see cref="Components.Flows.ConditionalFlows"/>:
/// CFlow, BGAD); each sets its official defaults in its constructor.
/// </summary>
public abstract record ConditionalFlowOptions : GradientTrainingOptions
{
    protected ConditionalFlowOptions()
    {
        // CFlow's config.py (BGAD's keeps it): 25 meta-epochs of 8 sub-epochs (a sub-epoch is one pass over the loader),
        // batch 32, Adam lr 2e-4.
        Epochs = 25 * 8;
        BatchSize = 32;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 2e-4;
        // main.py + utils.py: cosine from lr to lr · 0.1³ over the 25 meta-epochs, set once per meta-epoch
        // (adjust_learning_rate), and a per-step linear warm-up over the first 2 meta-epochs from lr / 10 to the cosine's
        // value at meta-epoch 2 (warmup_learning_rate).
        Schedule = ScheduleKind.Cosine;
        MinLearningRate = 1e-3;
        CosineEvery = 8;
        CosineFromStart = true;
        WarmupEpochs = 2 * 8;
        WarmupFrom = 0.1;
    }

    /// <summary>The method's name in error messages.</summary>
    protected abstract string Method { get; }

    [Option("layers", "Backbone layers, one decoder each (CFlow: layer2, layer3, layer4; BGAD: layer1, layer2, layer3).")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer2", "layer3", "layer4"];

    [Option("coupling_blocks", "Conditional coupling blocks per decoder (8).")]
    public int CouplingBlocks { get; init; } = 8;

    [Option("clamp_alpha", "Soft clamping of the coupling's log-scale (1.9).")]
    public double ClampAlpha { get; init; } = 1.9;

    [Option("condition_vec", "Channels of the 2D positional encoding the decoders are conditioned on (128; a multiple of 4).")]
    public int ConditionChannels { get; init; } = 128;

    [Option("fiber_batch", "Feature vectors (positions) per optimizer step, drawn at random from a batch's positions (CFlow: N = 256, BGAD: 4096).")]
    public int FiberBatch { get; init; } = 256;

    [Option("sigma", "σ (network-input pixels) of a Gaussian smoothing of the map; 0 = none, as the official code.")]
    public double MapSigma { get; init; }

    public override void Validate()
    {
        base.Validate();
        if (Layers.Count == 0) throw new VigilInputException($"{Method} needs at least one layer.");
        if (CouplingBlocks < 1) throw new VigilInputException($"{Method} coupling_blocks={CouplingBlocks} must be at least 1 (8 in the official code).");
        if (!(ClampAlpha > 0)) throw new VigilInputException($"{Method} clamp_alpha={ClampAlpha} must be positive (1.9 in the official code).");
        if (ConditionChannels <= 0 || ConditionChannels % 4 != 0)
            throw new VigilInputException($"{Method} condition_vec={ConditionChannels} must be a positive multiple of 4 (128 in the official code).");
        if (FiberBatch < 1) throw new VigilInputException($"{Method} fiber_batch={FiberBatch} must be at least 1.");
        if (MapSigma < 0) throw new VigilInputException($"{Method} sigma={MapSigma} must not be negative (0 = no smoothing).");
    }
}
