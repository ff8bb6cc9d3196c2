using Vigil.Detectors.Options;

namespace Vigil.Detectors.Padim;

/// <summary>PaDiM settings; defaults follow the reference implementation (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master).</summary>
public sealed record PadimOptions : IDetectorOptions
{
    [Option("layers", "Backbone layers concatenated per position; coarser layers are nearest-upsampled to the first layer's grid.")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("dims", "Size d of the random channel subset; none = the reference's choice by backbone: 100 of 448 channels (ResNet18), 550 of 1792 (WideResNet50), else min(100, channels).")]
    public int? Dimensions { get; init; }

    [Option("regularisation", "ε added to every covariance diagonal so it is invertible (0.01 in the paper).")]
    public double Regularisation { get; init; } = 0.01;

    [Option("sigma", "σ (in network-input pixels) of the Gaussian smoothing of the anomaly map (4 in the paper).")]
    public double MapSigma { get; init; } = 4;

    [Option("batch", "Training images per feature-extraction batch (memory, not results).")]
    public int BatchSize { get; init; } = 8;

    public void Validate()
    {
        if (Dimensions < 1) throw new VigilInputException($"PaDiM dimensions {Dimensions} must be positive, or none for the reference's choice by backbone.");
        if (!(Regularisation > 0)) throw new VigilInputException($"PaDiM covariance regularisation {Regularisation} must be positive (0.01 in the paper).");
        if (!(MapSigma > 0)) throw new VigilInputException($"PaDiM map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"PaDiM batch size {BatchSize} must be at least 1.");
        if (Layers.Count == 0) throw new VigilInputException("PaDiM needs at least one layer (layer1+layer2+layer3 in the paper).");
    }
}
