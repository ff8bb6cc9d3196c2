namespace Vigil.Detectors;

/// <summary>SPADE settings; defaults follow the paper and the reference implementation (byungjae89/SPADE-pytorch).</summary>
public sealed record SpadeOptions
{
    /// <summary>Layer whose global average-pooled features pick the nearest training images (layer4 for ResNets).</summary>
    public string GlobalLayer { get; init; } = "layer4";

    /// <summary>Feature-pyramid layers, bilinearly resized to the first one's grid and concatenated, for pixel-level kNN.</summary>
    public IReadOnlyList<string> PyramidLayers { get; init; } = ["layer1", "layer2", "layer3"];

    /// <summary>Nearest training images K (capped at the training-set size); their mean distance is the image score.</summary>
    public int NearestImages { get; init; } = 50;

    /// <summary>σ (in network-input pixels) of the Gaussian smoothing of the anomaly map.</summary>
    public double MapSigma { get; init; } = 4;

    /// <summary>Training images per feature-extraction batch.</summary>
    public int BatchSize { get; init; } = 8;

    internal void Validate()
    {
        if (NearestImages < 1) throw new VigilInputException($"SPADE nearest images K={NearestImages} must be at least 1 (50 in the paper).");
        if (!(MapSigma > 0)) throw new VigilInputException($"SPADE map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"SPADE batch size {BatchSize} must be at least 1.");
    }
}
