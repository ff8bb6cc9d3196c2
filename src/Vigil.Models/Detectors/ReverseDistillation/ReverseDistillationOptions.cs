using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>Reverse Distillation settings; defaults follow the official code (hq-deng/RD4AD, main.py and test.py).</summary>
public sealed record ReverseDistillationOptions : GradientTrainingOptions
{
    public ReverseDistillationOptions()
    {
        // main.py train(): epochs 200, batch 16, Adam(lr 0.005, betas (0.5, 0.999)) over bn and decoder, no weight decay,
        // no validation; the weights after the last epoch are the ones saved and evaluated.
        Epochs = 200;
        BatchSize = 16;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 0.005;
        Beta1 = 0.5;
        Beta2 = 0.999;
        Keep = KeepWeights.Last;
    }

    [Option("sigma", "σ (network-input pixels) of the Gaussian smoothing of the summed map (4, as test.py's evaluation); 0 = none.")]
    public double MapSigma { get; init; } = 4;

    public override void Validate()
    {
        base.Validate();
        if (MapSigma < 0) throw new VigilInputException($"Reverse Distillation sigma={MapSigma} must not be negative (0 = no smoothing).");
    }
}
