using Vigil.Detectors.Options;

namespace Vigil.Detectors.Spade;

/// <summary>SPADE settings; defaults follow the paper and the reference implementation (byungjae89/SPADE-pytorch).</summary>
public sealed record SpadeOptions : IDetectorOptions
{
    [Option("global_layer", "Layer whose global average-pooled features pick the nearest training images (layer4 for ResNets).")]
    public string GlobalLayer { get; init; } = "layer4";

    [Option("layers", "Feature-pyramid layers, bilinearly resized to the first one's grid and concatenated, for pixel-level kNN.")]
    public IReadOnlyList<string> PyramidLayers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("k", "Nearest training images K (capped at the training-set size); their mean distance is the image score (50 in the paper).")]
    public int NearestImages { get; init; } = 50;

    [Option("sigma", "σ (in network-input pixels) of the Gaussian smoothing of the anomaly map (4 in the paper).")]
    public double MapSigma { get; init; } = 4;

    [Option("batch", "Training images per feature-extraction batch (memory, not results).")]
    public int BatchSize { get; init; } = 8;

    /// <summary>Every layer SPADE reads from the backbone, in stage order.</summary>
    public IReadOnlyList<string> Layers => [.. PyramidLayers.Append(GlobalLayer).Distinct().Order(StringComparer.Ordinal)];

    public void Validate()
    {
        if (NearestImages < 1) throw new VigilInputException($"SPADE nearest images K={NearestImages} must be at least 1 (50 in the paper).");
        if (!(MapSigma > 0)) throw new VigilInputException($"SPADE map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"SPADE batch size {BatchSize} must be at least 1.");
        if (PyramidLayers.Count == 0) throw new VigilInputException("SPADE needs at least one pyramid layer (layer1+layer2+layer3 in the paper).");
    }
}
