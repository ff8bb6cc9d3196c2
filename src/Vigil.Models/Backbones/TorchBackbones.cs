using Vigil.Weights;

namespace Vigil.Backbones;

/// <summary>The torchvision ResNets by name, with the torchvision ImageNet weights (IMAGENET1K_V1) each loads by default.</summary>
public static class TorchBackbones
{
    private static readonly Dictionary<string, (ResNetArchitecture Architecture, PretrainedWeights Weights)> ByName = new[]
    {
        (ResNetArchitecture.ResNet18, "resnet18-f37072fd.pth"),
        (ResNetArchitecture.ResNet34, "resnet34-b627a593.pth"),
        (ResNetArchitecture.ResNet50, "resnet50-0676ba61.pth"),
        (ResNetArchitecture.WideResNet50_2, "wide_resnet50_2-95faca4d.pth"),
    }.ToDictionary(e => e.Item1.Name, e => (e.Item1, PretrainedWeights.TorchVision(e.Item1.Name, e.Item2)));

    public static IReadOnlyList<string> Names { get; } = [.. ByName.Keys];

    /// <summary>Appended to a name, runs the network in libtorch instead of ONNX Runtime (e.g. "wide_resnet50_2_torch").</summary>
    public const string LibTorchSuffix = "_torch";

    /// <summary>The libtorch names, <see cref="Names"/> with <see cref="LibTorchSuffix"/>.</summary>
    public static IReadOnlyList<string> LibTorchNames { get; } = [.. ByName.Keys.Select(n => n + LibTorchSuffix)];

    public static bool Contains(string name) => ByName.ContainsKey(name);

    /// <summary>The network a libtorch name (see <see cref="LibTorchNames"/>) runs, or null for other names.</summary>
    public static string? LibTorchNetwork(string name) =>
        name.EndsWith(LibTorchSuffix, StringComparison.Ordinal) && name[..^LibTorchSuffix.Length] is var network && Contains(network) ? network : null;

    public static ResNetArchitecture Architecture(string name) => Lookup(name).Architecture;

    public static PretrainedWeights Weights(string name) => Lookup(name).Weights;

    private static (ResNetArchitecture Architecture, PretrainedWeights Weights) Lookup(string name) =>
        ByName.TryGetValue(name, out var entry) ? entry
            : throw new VigilInputException($"Unknown backbone '{name}'; choose one of {string.Join(", ", Names)}.");
}
