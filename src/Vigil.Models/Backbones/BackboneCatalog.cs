using Vigil.Backbones.Onnx;
using Vigil.Weights;

namespace Vigil.Backbones;

/// <summary>
/// Every backbone Vigil can build by name: the TorchSharp ResNets (torchvision weights) and the ONNX MobileNetV2
/// int8 (ONNX Model Zoo). Pretrained files are found by a <see cref="WeightStore"/>, which also looks in the
/// project's shared/weights folder when there is one.
/// </summary>
public static class BackboneCatalog
{
    /// <summary>Where the ONNX Model Zoo publishes the quantised MobileNetV2 (verified against its full SHA-256).</summary>
    public static PretrainedWeights MobileNetV2Int8Weights { get; } = new(MobileNetV2Int8.Name, MobileNetV2Int8.FileName,
        new Uri("https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/" + MobileNetV2Int8.FileName),
        MobileNetV2Int8.Sha256);

    public static IReadOnlyList<string> Names { get; } = [.. TorchBackbones.Names, MobileNetV2Int8.Name];

    /// <summary>The default store, plus shared/weights when the project's shared folder is present.</summary>
    public static WeightStore DefaultStore() =>
        SharedFolder.Find("weights") is { } shared
            ? new WeightStore(downloader: new HttpWeightDownloader(), extraSearchDirectories: [shared, WeightStore.TorchHubDirectory])
            : WeightStore.Default;

    /// <summary>
    /// Opens backbone <paramref name="name"/> returning <paramref name="layers"/> ("layer1".."layer4", strides 4–32).
    /// Random weights for the ONNX backbone shuffle its pretrained convolution weights, so its file is still needed.
    /// </summary>
    /// <param name="input">Input geometry and batching; null = the backbone's default (ResNets 256×256, MobileNetV2 224×224).</param>
    public static IFeatureExtractor Open(string name, WeightSource weights, IReadOnlyList<string> layers, FeatureExtractorOptions? input = null,
        WeightStore? store = null)
    {
        if (TorchBackbones.Contains(name))
            return ResNetFeatureExtractor.Create(name, weights, layers, input, store ?? DefaultStore());
        if (name == MobileNetV2Int8.Name)
        {
            if (input is not null && (input.Resize != MobileNetV2Int8.InputSize || input.Crop is not null))
                throw new VigilInputException($"{MobileNetV2Int8.Name} takes {MobileNetV2Int8.InputSize}×{MobileNetV2Int8.InputSize} input without a crop; leave out --resize/--crop or choose a ResNet backbone.");
            var path = (store ?? DefaultStore()).Resolve(MobileNetV2Int8Weights, weights.Kind == WeightSourceKind.File ? weights.Path : null);
            return MobileNetV2Int8.Open(path, layers, weights.Kind == WeightSourceKind.Random ? (int)weights.Seed : null);
        }
        throw new VigilInputException($"Unknown backbone '{name}'. Known backbones: {string.Join(", ", Names)}.");
    }
}
