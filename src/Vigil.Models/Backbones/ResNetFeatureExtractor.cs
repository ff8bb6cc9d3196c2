using System.Security.Cryptography;
using TorchSharp;
using Vigil.Imaging;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Backbones;

/// <summary>
/// A frozen torchvision ResNet returning chosen stage outputs (layer1..layer4). Runs in eval mode without
/// gradients, in batches, and never computes stages deeper than the deepest one asked for.
/// </summary>
public sealed class ResNetFeatureExtractor : IFeatureExtractor, IWeightsFingerprint
{
    private static readonly string[] StageNames = ["layer1", "layer2", "layer3", "layer4"];
    private readonly ResNet _network;
    private readonly int[] _stages; // 1-based stage of each requested layer
    private readonly int _batchSize;

    static ResNetFeatureExtractor() => NativeRuntime.Configure();

    private ResNetFeatureExtractor(ResNet network, string name, IReadOnlyList<string> layers, FeatureExtractorOptions options,
        Preprocessing preprocessing, bool random, string weightsSha256)
    {
        if (layers.Count == 0) throw new VigilInputException("Ask for at least one feature layer (layer1..layer4).");
        _stages = layers.Select(l => Array.IndexOf(StageNames, l) is int i and >= 0 ? i + 1
            : throw new VigilInputException($"Unknown feature layer '{l}' for {network.Architecture.Name}; choose from {string.Join(", ", StageNames)}.")).ToArray();
        if (options.BatchSize < 1) throw new VigilInputException($"Batch size {options.BatchSize} must be at least 1.");
        _network = network;
        _network.eval();
        foreach (var p in _network.parameters()) p.requires_grad = false;
        _batchSize = options.BatchSize;
        Layers = [.. layers];
        LayerShapes = _stages.Select(s => (network.Architecture.StageChannels(s), 2 << s)).ToArray();
        Name = name;
        Preprocessing = preprocessing;
        IsRandomlyInitialised = random;
        WeightsSha256 = weightsSha256;
    }

    /// <summary>
    /// Builds the named backbone (<see cref="TorchBackbones.Names"/>) in libtorch with weights from <paramref name="weights"/>
    /// (see <see cref="LoadNetwork"/>). <see cref="BackboneCatalog"/> runs these networks through ONNX Runtime unless their
    /// "_torch" name is asked for; the extractor is named after the network either way.
    /// </summary>
    public static ResNetFeatureExtractor Create(string backbone, WeightSource weights, IReadOnlyList<string> layers,
        FeatureExtractorOptions? options = null, WeightStore? store = null)
    {
        var (network, sha256) = LoadNetwork(backbone, weights, store);
        try
        {
            options ??= new();
            return new ResNetFeatureExtractor(network, backbone, layers, options, options.Preprocessing(), weights.Kind == WeightSourceKind.Random, sha256);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The named torchvision ResNet (with classifier) holding the weights of <paramref name="weights"/>: the pretrained
    /// file found by <paramref name="store"/> (default: <see cref="WeightStore.Default"/>), an explicit file
    /// (.pth/.pt/.safetensors/TorchScript, loaded strictly), or random initialisation from a seed; with the weights'
    /// fingerprint (the file's SHA-256, or "random:&lt;seed&gt;"). The caller owns the network.
    /// </summary>
    public static (ResNet Network, string WeightsSha256) LoadNetwork(string backbone, WeightSource weights, WeightStore? store = null)
    {
        var network = new ResNet(TorchBackbones.Architecture(backbone));
        try
        {
            if (weights.Kind == WeightSourceKind.Random)
            {
                network.InitialiseRandomly(weights.Seed);
                return (network, $"random:{weights.Seed}");
            }
            var path = (store ?? WeightStore.Default).Resolve(TorchBackbones.Weights(backbone), weights.Kind == WeightSourceKind.File ? weights.Path : null);
            string sha256;
            using (var file = File.OpenRead(path)) sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
            using var state = WeightFile.Read(path);
            StateDictLoader.Load(network, state);
            return (network, sha256);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wraps an already built network (weights loaded by the caller); it is disposed with the extractor. By default
    /// the extractor is named after the architecture and normalises with ImageNet mean/std; networks trained on other
    /// input statistics give theirs as <paramref name="normalisation"/>.
    /// </summary>
    public static ResNetFeatureExtractor FromNetwork(ResNet network, IReadOnlyList<string> layers, bool isRandomlyInitialised,
        FeatureExtractorOptions? options = null, string? name = null,
        (IReadOnlyList<float> Mean, IReadOnlyList<float> Std)? normalisation = null, string weightsSha256 = "")
    {
        options ??= new();
        var preprocessing = normalisation is var (mean, std) ? options.Preprocessing(mean, std) : options.Preprocessing();
        return new(network, name ?? network.Architecture.Name, layers, options, preprocessing, isRandomlyInitialised, weightsSha256);
    }

    /// <summary>SHA-256 of the weight file, "random:&lt;seed&gt;" for seeded random weights, "" for a network built by the caller unless it gave one.</summary>
    public string WeightsSha256 { get; }

    public string Name { get; }

    public Preprocessing Preprocessing { get; }

    public IReadOnlyList<string> Layers { get; }

    public IReadOnlyList<(int Channels, int Stride)> LayerShapes { get; }

    public bool IsRandomlyInitialised { get; }

    /// <summary>The underlying network, e.g. for comparing against a reference forward pass.</summary>
    public ResNet Network => _network;

    public IReadOnlyList<Tensor> Extract(IReadOnlyList<ImageTensor> images)
    {
        if (images.Count == 0) throw new ArgumentException("No images to extract features from.", nameof(images));
        var prepared = new ImageTensor[images.Count];
        Parallel.For(0, images.Count, i => prepared[i] = Preprocessing.Apply(ImageOps.ToRgb(images[i], $"Image {i}")));
        int h = Preprocessing.OutputHeight, w = Preprocessing.OutputWidth, deepest = _stages.Max();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var perLayer = _stages.Select(_ => new List<Tensor>()).ToArray();
        for (int start = 0; start < prepared.Length; start += _batchSize)
        {
            int count = Math.Min(_batchSize, prepared.Length - start);
            var data = new float[count * 3 * h * w];
            for (int i = 0; i < count; i++) prepared[start + i].Data.CopyTo(data, i * 3 * h * w);
            var batch = tensor(data, [count, 3, h, w]);
            var outputs = _network.ForwardStages(batch, deepest);
            for (int l = 0; l < _stages.Length; l++) perLayer[l].Add(outputs[_stages[l] - 1]);
        }
        return perLayer.Select(parts => (parts.Count == 1 ? parts[0] : cat(parts, 0)).MoveToOuterDisposeScope()).ToArray();
    }

    public void Dispose() => _network.Dispose();
}
