using Vigil.Detectors.Options;

namespace Vigil.Detectors.Spade;

/// <summary>SPADE settings; defaults follow the reference implementation (byungjae89/SPADE-pytorch, as IM-IAD runs it).</summary>
public sealed record SpadeOptions : IDetectorOptions
{
    [Option("global_layer", "Layer whose global average-pooled features pick the nearest training images (layer4 for ResNets).")]
    public string GlobalLayer { get; init; } = "layer4";

    [Option("layers", "Feature-pyramid layers; each is searched at its own resolution and the layers' maps are averaged.")]
    public IReadOnlyList<string> PyramidLayers { get; init; } = ["layer1", "layer2", "layer3"];

    [Option("k", "Nearest training images K (capped at the training-set size); their mean distance is the image score (5 in the reference code and IM-IAD; 50 in the paper).")]
    public int NearestImages { get; init; } = 5;

    [Option("sigma", "σ (in network-input pixels) of the Gaussian smoothing of the anomaly map (4 in the paper).")]
    public double MapSigma { get; init; } = 4;

    [Option("batch", "Training images per feature-extraction batch (memory, not results).")]
    public int BatchSize { get; init; } = 8;

    /// <summary>Every layer SPADE reads from the backbone, in stage order.</summary>
    public IReadOnlyList<string> Layers => [.. PyramidLayers.Append(GlobalLayer).Distinct().Order(StringComparer.Ordinal)];

    public void Validate()
    {
        if (NearestImages < 1) throw new VigilInputException($"SPADE nearest images K={NearestImages} must be at least 1 (5 in the reference code).");
        if (!(MapSigma > 0)) throw new VigilInputException($"SPADE map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"SPADE batch size {BatchSize} must be at least 1.");
        if (PyramidLayers.Count == 0) throw new VigilInputException("SPADE needs at least one pyramid layer (layer1+layer2+layer3 in the paper).");
    }
}
