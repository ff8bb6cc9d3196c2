using System.Security.Cryptography;
using TorchSharp;
using Vigil.Imaging;
using Vigil.Weights;

namespace Vigil.Backbones.Onnx;

/// <summary>
/// The float32 ImageNet ResNet18 that ML.NET's NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (MIT)
/// ships as ONNX (ResNet18.onnx, exported from CNTK 2.6, opset 8, input [1, 3, 224, 224], output the 512 pooled
/// features; no classifier). Two ways to run it, with the same numbers:
/// <list type="bullet">
/// <item>"resnet18_imagenet": ONNX Runtime feature extractor (<see cref="Open"/>) returning layer1..layer4 at strides 4–32;</item>
/// <item>"resnet18_imagenet_torch": the TorchSharp <see cref="ResNet"/> with these weights (<see cref="LoadNetwork"/>,
/// trainable; <see cref="OpenTorch"/> wraps it as a frozen extractor).</item>
/// </list>
/// <para>
/// Layout (read from the graph by <see cref="OnnxResNetLayout"/>): torchvision's resnet18 (7×7/2 stem, 3×3/2 max
/// pool, basic blocks, 1×1 projection shortcuts at the first block of stages 2–4, BatchNorm ε = 1e-5) except that
/// stage 4 has three blocks, not two (<see cref="ResNetArchitecture.ResNet18ImageNet"/>). The export fixed CNTK's
/// "same" padding for 224 pixels as begin/end pads [3, 2] (stem) and [1, 0] (max pool, stride-2 3×3 convolutions).
/// The end pads are never reached by even sizes, and at odd sizes CNTK pads symmetrically, so the graph is given
/// symmetric pads (<see cref="PrepareGraph"/>): the same numbers at 224 and torchvision's (ceil(n/2)) at any size.
/// </para>
/// <para>
/// Input: the package's ResNetPreprocess.onnx turns RGB in 0–255 into BGR minus a 224×224 mean image. That image is
/// not constant (per-channel means B 103.06, G 115.90, R 123.15, ranges 95–116, 109–126, 119–130 grey levels, smooth:
/// brighter at the top) and exists only at 224 pixels. Vigil subtracts its per-channel means instead (<see cref="ChannelMeans"/>), so
/// any input size works and the usual per-channel <see cref="Imaging.Preprocessing"/> applies: mean = means / 255,
/// std = 1 / 255 on RGB in [0, 1]. The channel order is folded into the stem convolution's weights (its input
/// channels reversed), so both ways take RGB. docs/protocol.md gives what the approximation costs.
/// </para>
/// </summary>
public static class ResNet18ImageNet
{
    public const string Name = "resnet18_imagenet";
    public const string TorchName = "resnet18_imagenet_torch";
    public const string FileName = "ResNet18.onnx";
    public const string Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    public const string PackageVersion = "0.23.1";

    public static IReadOnlyList<string> StageNames { get; } = ["layer1", "layer2", "layer3", "layer4"];

    /// <summary>Per-channel means of the package's 224×224 mean image, in RGB order and grey levels 0–255.</summary>
    public static IReadOnlyList<float> ChannelMeans { get; } = [123.15163f, 115.90288f, 103.06262f];

    /// <summary>The geometry of <paramref name="options"/> (default 256×256 stretch, like the other backbones) with this network's normalisation.</summary>
    public static Preprocessing Preprocessing(FeatureExtractorOptions? options = null)
    {
        var (mean, std) = Normalisation;
        return (options ?? new()).Preprocessing(mean, std);
    }

    private static (IReadOnlyList<float> Mean, IReadOnlyList<float> Std) Normalisation =>
        (ChannelMeans.Select(m => m / 255f).ToArray(), [1 / 255f, 1 / 255f, 1 / 255f]);

    /// <summary>
    /// Where the model is found: beside Vigil's assemblies (DnnImageModels/ResNet18Onnx, copied there by the build from
    /// the NuGet package), else in the NuGet package folder ($NUGET_PACKAGES or ~/.nuget/packages).
    /// </summary>
    public static string DefaultPath()
    {
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", FileName),
            Path.Combine(nugetRoot, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels", "ResNet18Onnx", FileName),
        ];
        return candidates.FirstOrDefault(File.Exists) ?? throw new VigilInputException(
            $"{FileName} ({Name}) was found in neither {string.Join(" nor ", candidates)}. Building Vigil restores the NuGet package " +
            $"{PackageId} {PackageVersion} and copies it beside the assemblies (dotnet build); or pass the file as the weights.");
    }

    /// <summary>The model file for <paramref name="weights"/>: the explicit file, else <see cref="DefaultPath"/> (random weights still start from it).</summary>
    public static string ResolvePath(WeightSource weights) => weights.Kind == WeightSourceKind.File ? weights.Path! : DefaultPath();

    /// <summary>
    /// The ONNX Runtime extractor returning <paramref name="layers"/> (default all four) at any input size. A
    /// <paramref name="randomWeightsSeed"/> shuffles the convolution weights (the untrained baseline, as for MobileNetV2).
    /// </summary>
    public static OnnxFeatureExtractor Open(string path, IReadOnlyList<string>? layers = null, FeatureExtractorOptions? options = null,
        int? randomWeightsSeed = null, int threads = 0)
    {
        var wanted = CheckLayers(layers ?? StageNames);
        return OnnxFeatureExtractor.Open(path, model =>
        {
            var stages = FindStages(model);
            return wanted.Select(w => stages.Single(s => s.Name == w)).ToList();
        }, Preprocessing(options), Name, Sha256, randomWeightsSeed, threads, PrepareGraph);
    }

    /// <summary>The stage outputs (the Relu after each stage's last residual Add) as layer1..layer4.</summary>
    public static IReadOnlyList<OnnxLayer> FindStages(OnnxModel model)
    {
        var layout = ReadLayout(model);
        return layout.StageOutputs.Select((tensor, i) => new OnnxLayer(StageNames[i], tensor)).ToList();
    }

    /// <summary>
    /// Edits the graph for Vigil's input: the stem convolution reads RGB (its input channels reversed), every pad is
    /// symmetric, and the input size is symbolic.
    /// </summary>
    public static void PrepareGraph(OnnxModel model)
    {
        var stem = ReadLayout(model).Stem.Conv.Inputs[1];
        var (dims, weights) = model.ReadInitializer(stem);
        model.WriteInitializer(stem, ReverseInputChannels(dims, weights));
        foreach (var node in model.Nodes.Where(n => n.OpType is "Conv" or "MaxPool").ToList())
        {
            if (node.IntsAttribute("pads") is not [var top, var left, var bottom, var right] || (bottom == top && right == left)) continue;
            if (bottom > top || right > left)
                throw new VigilInputException($"'{node.Name}' pads [{top}, {left}, {bottom}, {right}] more at the end than at the start; this is not the CNTK export Vigil knows.");
            model.SetIntsAttribute(node, "pads", [top, left, top, left]);
        }
        model.MakeInputSizeSymbolic();
    }

    /// <summary>
    /// A TorchSharp ResNet (<see cref="ResNetArchitecture.ResNet18ImageNet"/>, no classifier) holding the weights of
    /// <paramref name="path"/> (its SHA-256 is checked) under torchvision's names, stem reading RGB, in train mode
    /// with gradients: the starting point for models that train the backbone. Give it input normalised by
    /// <see cref="Preprocessing"/>.
    /// </summary>
    public static ResNet LoadNetwork(string path)
    {
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : throw new VigilInputException($"{Name} model '{path}' does not exist: check the path.");
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha256 != Sha256)
            throw new VigilInputException($"'{path}' has sha256 {sha256}, expected {Sha256} ({FileName} of {PackageId} {PackageVersion}): replace it with the package's file.");
        var model = OnnxModel.Parse(bytes);
        var layout = ReadLayout(model);
        var network = new ResNet(ResNetArchitecture.ResNet18ImageNet, classes: 0);
        try
        {
            using var state = new StateDict(path);
            AddConvBn(state, model, layout.Stem, "conv1", "bn1", reverseInputChannels: true);
            foreach (var block in layout.Blocks)
            {
                var prefix = $"layer{block.Stage}.{block.Index}.";
                AddConvBn(state, model, block.Conv1, prefix + "conv1", prefix + "bn1");
                AddConvBn(state, model, block.Conv2, prefix + "conv2", prefix + "bn2");
                if (block.Downsample is { } downsample) AddConvBn(state, model, downsample, prefix + "downsample.0", prefix + "downsample.1");
            }
            StateDictLoader.Load(network, state);
            network.train();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The frozen TorchSharp extractor "resnet18_imagenet_torch": <see cref="LoadNetwork"/> (file from
    /// <see cref="ResolvePath"/>) or, for random weights, the same architecture initialised like torchvision's.
    /// </summary>
    public static ResNetFeatureExtractor OpenTorch(WeightSource weights, IReadOnlyList<string> layers, FeatureExtractorOptions? options = null)
    {
        bool random = weights.Kind == WeightSourceKind.Random;
        ResNet network;
        if (random)
        {
            network = new ResNet(ResNetArchitecture.ResNet18ImageNet, classes: 0);
            network.InitialiseRandomly(weights.Seed);
        }
        else network = LoadNetwork(ResolvePath(weights));
        try
        {
            return ResNetFeatureExtractor.FromNetwork(network, layers, random, options, TorchName, Normalisation,
                random ? $"random:{weights.Seed}" : Sha256);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private static OnnxResNetLayout ReadLayout(OnnxModel model)
    {
        var layout = OnnxResNetLayout.Read(model);
        var expected = ResNetArchitecture.ResNet18ImageNet.BlocksPerStage;
        if (!layout.BlocksPerStage.SequenceEqual(expected))
            throw new VigilInputException($"The graph has stages of {string.Join(", ", layout.BlocksPerStage)} blocks; {Name} has {string.Join(", ", expected)}.");
        return layout;
    }

    private static IReadOnlyList<string> CheckLayers(IReadOnlyList<string> layers)
    {
        var unknown = layers.Where(l => !StageNames.Contains(l)).ToList();
        return unknown.Count == 0 ? layers
            : throw new VigilInputException($"{Name} has no layer {string.Join(", ", unknown)}; choose from {string.Join(", ", StageNames)}.");
    }

    private static void AddConvBn(StateDict state, OnnxModel model, OnnxConvBn convBn, string conv, string bn, bool reverseInputChannels = false)
    {
        if (convBn.Conv.Inputs.Count > 2 && convBn.Conv.Inputs[2].Length > 0)
            throw new VigilInputException($"Convolution '{convBn.Conv.Name}' has a bias; torchvision's ResNet convolutions have none.");
        if (convBn.BatchNorm.FloatAttribute("epsilon") is float epsilon && Math.Abs(epsilon - 1e-5f) > 1e-9f)
            throw new VigilInputException($"BatchNormalization '{convBn.BatchNorm.Name}' has epsilon {epsilon}; Vigil's BatchNorm2d uses 1e-5.");
        var (dims, weights) = model.ReadInitializer(convBn.Conv.Inputs[1]);
        state.Add(conv + ".weight", torch.tensor(reverseInputChannels ? ReverseInputChannels(dims, weights) : weights, dims));
        string[] names = ["weight", "bias", "running_mean", "running_var"]; // ONNX inputs 1..4: scale, B, mean, var
        for (int i = 0; i < names.Length; i++)
        {
            var (shape, values) = model.ReadInitializer(convBn.BatchNorm.Inputs[i + 1]);
            state.Add($"{bn}.{names[i]}", torch.tensor(values, shape));
        }
    }

    /// <summary>Reverses the input-channel axis of convolution weights [out, in, kh, kw] (BGR ↔ RGB).</summary>
    private static float[] ReverseInputChannels(long[] dims, float[] weights)
    {
        int outChannels = (int)dims[0], inChannels = (int)dims[1], kernel = (int)(dims[2] * dims[3]);
        var reversed = new float[weights.Length];
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < inChannels; c++)
                Array.Copy(weights, (o * inChannels + c) * kernel, reversed, (o * inChannels + inChannels - 1 - c) * kernel, kernel);
        return reversed;
    }
}
