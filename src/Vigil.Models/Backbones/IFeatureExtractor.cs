using TorchSharp;
using Vigil.Imaging;

namespace Vigil.Backbones;

/// <summary>
/// A frozen pretrained network that returns chosen intermediate feature maps. It owns its preprocessing,
/// so callers pass raw RGB images in [0, 1] and cannot feed wrongly normalised input.
/// </summary>
public interface IFeatureExtractor : IDisposable
{
    /// <summary>Backbone name, e.g. "wide_resnet50_2", "mobilenetv2_int8_onnx".</summary>
    string Name { get; }

    /// <summary>Resize/crop/normalisation applied to every image before the network.</summary>
    Preprocessing Preprocessing { get; }

    /// <summary>The layers returned by <see cref="Extract"/>, in that order (e.g. "layer2", "layer3").</summary>
    IReadOnlyList<string> Layers { get; }

    /// <summary>Channels and stride (input pixels per feature cell) of each returned layer.</summary>
    IReadOnlyList<(int Channels, int Stride)> LayerShapes { get; }

    /// <summary>True when the weights are random (asked for explicitly); results must be marked as such.</summary>
    bool IsRandomlyInitialised { get; }

    /// <summary>
    /// Runs raw RGB images in [0, 1] (any size; preprocessing resizes them) through the network and returns one
    /// float32 tensor [N, C, h, w] per layer in <see cref="Layers"/>. The caller disposes the tensors.
    /// </summary>
    IReadOnlyList<torch.Tensor> Extract(IReadOnlyList<ImageTensor> images);
}
