namespace Vigil.Detectors;

/// <summary>PaDiM settings; defaults follow the reference implementation (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master).</summary>
public sealed record PadimOptions
{
    /// <summary>Layers concatenated per position; coarser layers are nearest-upsampled to the first layer's grid.</summary>
    public IReadOnlyList<string> Layers { get; init; } = ["layer1", "layer2", "layer3"];

    /// <summary>
    /// Size d of the random channel subset (the paper uses 100 for ResNet18, 550 for Wide-ResNet50);
    /// null = min(100, total channels).
    /// </summary>
    public int? Dimensions { get; init; }

    /// <summary>Seed of the random channel subset (the reference seeds with 1024).</summary>
    public long Seed { get; init; } = 1024;

    /// <summary>ε added to every covariance diagonal so it is invertible.</summary>
    public double Regularisation { get; init; } = 0.01;

    /// <summary>σ (in network-input pixels) of the Gaussian smoothing of the anomaly map.</summary>
    public double MapSigma { get; init; } = 4;

    /// <summary>Training images per feature-extraction batch.</summary>
    public int BatchSize { get; init; } = 8;

    internal void Validate()
    {
        if (Dimensions < 1) throw new VigilInputException($"PaDiM dimensions {Dimensions} must be positive, or null for min(100, channels).");
        if (!(Regularisation > 0)) throw new VigilInputException($"PaDiM covariance regularisation {Regularisation} must be positive (0.01 in the paper).");
        if (!(MapSigma > 0)) throw new VigilInputException($"PaDiM map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"PaDiM batch size {BatchSize} must be at least 1.");
    }
}
