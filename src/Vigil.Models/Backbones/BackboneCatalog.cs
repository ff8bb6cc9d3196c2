using Vigil.Backbones.Onnx;
using Vigil.Weights;

namespace Vigil.Backbones;

/// <summary>
/// Every backbone Vigil can build by name: the torchvision ResNets (torchvision weights; run through ONNX Runtime,
/// <see cref="OnnxResNet"/>, or in libtorch under their "_torch" name, with the same numbers within float rounding and
/// the same extractor name and fingerprint, so a model fitted with one runtime loads with the other), the ONNX MobileNetV2
/// int8 (ONNX Model Zoo), and the float ImageNet ResNet18 of ML.NET's NuGet package through ONNX Runtime
/// ("resnet18_imagenet") or TorchSharp ("resnet18_imagenet_torch"). Pretrained torchvision and MobileNetV2 files are
/// found by a <see cref="WeightStore"/>, which also looks in the project's shared/weights folder when there is one;
/// the ResNet18 file comes with the build (<see cref="ResNet18ImageNet.DefaultPath"/>).
/// </summary>
public static class BackboneCatalog
{
    /// <summary>Where the ONNX Model Zoo publishes the quantised MobileNetV2 (verified against its full SHA-256).</summary>
    public static PretrainedWeights MobileNetV2Int8Weights { get; } = new(MobileNetV2Int8.Name, MobileNetV2Int8.FileName,
        new Uri("https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/" + MobileNetV2Int8.FileName),
        MobileNetV2Int8.Sha256);

    public static IReadOnlyList<string> Names { get; } = [.. TorchBackbones.Names, .. TorchBackbones.LibTorchNames, MobileNetV2Int8.Name, ResNet18ImageNet.Name, ResNet18ImageNet.TorchName];

    /// <summary>The default store, plus shared/weights when the project's shared folder is present.</summary>
    public static WeightStore DefaultStore() =>
        SharedFolder.Find("weights") is { } shared
            ? new WeightStore(downloader: new HttpWeightDownloader(), extraSearchDirectories: [shared, WeightStore.TorchHubDirectory])
            : WeightStore.Default;

    /// <summary>
    /// Opens backbone <paramref name="name"/> returning <paramref name="layers"/> ("layer1".."layer4", strides 4–32).
    /// Random weights for the ONNX backbones shuffle their pretrained convolution weights, so their file is still needed.
    /// <paramref name="options"/> sets the input geometry; without it each backbone keeps its default (256×256 stretch,
    /// MobileNetV2 224×224).
    /// </summary>
    public static IFeatureExtractor Open(string name, WeightSource weights, IReadOnlyList<string> layers, FeatureExtractorOptions? options = null,
        WeightStore? store = null)
    {
        int? shuffleSeed = weights.Kind == WeightSourceKind.Random ? (int)weights.Seed : null;
        if (TorchBackbones.Contains(name))
            return OnnxResNet.Open(name, weights, layers, options, store ?? DefaultStore());
        if (TorchBackbones.LibTorchNetwork(name) is { } network)
            return ResNetFeatureExtractor.Create(network, weights, layers, options, store: store ?? DefaultStore());
        if (name == MobileNetV2Int8.Name)
        {
            var path = (store ?? DefaultStore()).Resolve(MobileNetV2Int8Weights, weights.Kind == WeightSourceKind.File ? weights.Path : null);
            return MobileNetV2Int8.Open(path, layers, shuffleSeed, preprocessing: options?.Preprocessing());
        }
        if (name == ResNet18ImageNet.Name)
            return ResNet18ImageNet.Open(ResNet18ImageNet.ResolvePath(weights), layers, options, shuffleSeed);
        if (name == ResNet18ImageNet.TorchName)
            return ResNet18ImageNet.OpenTorch(weights, layers, options);
        throw new VigilInputException($"Unknown backbone '{name}'. Known backbones: {string.Join(", ", Names)}.");
    }
}
