using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using Vigil.Export;
using Vigil.Export.Proto;
using Vigil.Weights;
using static Vigil.Export.OnnxGraphBuilder;
using DataType = Vigil.Export.Proto.TensorProto.Types.DataType;

namespace Vigil.Backbones.Onnx;

/// <summary>
/// The torchvision ResNets of <see cref="TorchBackbones"/> run through ONNX Runtime (1.3–2× faster than libtorch on
/// the CPUs measured, README): the TorchSharp <see cref="ResNet"/> is built with its weights as usual, then written
/// as an ONNX graph in memory (<see cref="Write"/>) and run by <see cref="OnnxFeatureExtractor"/>. The extractor has
/// the network's name and weight fingerprint, so model files do not depend on the runtime.
/// </summary>
public static class OnnxResNet
{
    private static readonly string[] StageNames = ["layer1", "layer2", "layer3", "layer4"];

    /// <summary>
    /// The ONNX Runtime extractor of torchvision ResNet <paramref name="backbone"/> returning <paramref name="layers"/>,
    /// with the weights <see cref="ResNetFeatureExtractor.LoadNetwork"/> loads; geometry and batch size from <paramref name="options"/>.
    /// </summary>
    public static OnnxFeatureExtractor Open(string backbone, WeightSource weights, IReadOnlyList<string> layers,
        FeatureExtractorOptions? options = null, WeightStore? store = null)
    {
        if (layers.Count == 0) throw new VigilInputException("Ask for at least one feature layer (layer1..layer4).");
        var unknown = layers.Where(l => !StageNames.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new VigilInputException($"Unknown feature layer '{unknown[0]}' for {backbone}; choose from {string.Join(", ", StageNames)}.");
        options ??= new();
        int deepest = layers.Max(l => Array.IndexOf(StageNames, l) + 1);
        string sha256 = "";
        byte[] Build()
        {
            var (network, fingerprint) = ResNetFeatureExtractor.LoadNetwork(backbone, weights, store);
            using (network)
            {
                sha256 = fingerprint;
                return Write(network, deepest);
            }
        }
        // Built once here (which also sets the fingerprint); those bytes serve the session, ExportGraph builds them again.
        byte[]? first = Build();
        byte[] Next()
        {
            var bytes = first ?? Build();
            first = null;
            return bytes;
        }
        return OnnxFeatureExtractor.Open($"the ONNX graph of {backbone}", Next,
            layers.Select(l => new OnnxLayer(l, StageOutput(Array.IndexOf(StageNames, l) + 1))).ToList(), options.Preprocessing(), backbone, sha256,
            weights.Kind == WeightSourceKind.Random, options.BatchSize, NativeRuntime.Threads,
            () => ResNetFeatureExtractor.LoadNetwork(backbone, weights, store).Network);
    }

    /// <summary>The graph tensor holding stage <paramref name="stage"/>'s output (1-based) in <see cref="Write"/>'s graph.</summary>
    public static string StageOutput(int stage) => StageNames[stage - 1];

    /// <summary>
    /// <paramref name="network"/> (eval mode: BatchNorm on its running statistics, with its ε) up to stage
    /// <paramref name="deepestStage"/> as an ONNX model (opset 17): input "image" [batch, 3, height, width], normalised;
    /// outputs layer1..layer<paramref name="deepestStage"/>, each the final Relu of its stage. Conv, BatchNormalization,
    /// Relu, MaxPool and Add with torchvision's kernels, strides and paddings; weights are read from the module's state.
    /// </summary>
    public static byte[] Write(ResNet network, int deepestStage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deepestStage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(deepestStage, network.Stages);
        var model = new ModelProto { IrVersion = 8, ProducerName = "vigil", Graph = new GraphProto { Name = network.Architecture.Name } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var g = new OnnxGraphBuilder(model.Graph);
        const string input = "image";
        model.Graph.Input.Add(TensorInfo(input, DataType.Float, "batch", 3, "height", "width"));
        var writer = new Writer(g, network);

        var x = writer.ConvBn(input, "conv1", "bn1", stride: 2);
        x = g.Op("Relu", [x]);
        x = g.Op("MaxPool", [x], Attribute("kernel_shape", 3L, 3L), Attribute("strides", 2L, 2L), Attribute("pads", 1L, 1L, 1L, 1L));
        var architecture = network.Architecture;
        for (int stage = 1; stage <= deepestStage; stage++)
        {
            for (int block = 0; block < architecture.BlocksPerStage[stage - 1]; block++)
            {
                var prefix = $"layer{stage}.{block}.";
                int stride = stage > 1 && block == 0 ? 2 : 1;
                x = architecture.Block == ResNetBlock.Basic ? writer.BasicBlock(x, prefix, stride) : writer.Bottleneck(x, prefix, stride);
            }
            // The stage's last Relu writes the tensor named after the layer.
            model.Graph.Node[^1].Output[0] = StageOutput(stage);
            x = StageOutput(stage);
            model.Graph.Output.Add(TensorInfo(x, DataType.Float, "batch", architecture.StageChannels(stage), "h" + stage, "w" + stage));
        }
        return model.ToByteArray();
    }

    /// <summary>Writes the nodes of one network, taking each parameter from its state by torchvision name.</summary>
    private sealed class Writer(OnnxGraphBuilder g, ResNet network)
    {
        private readonly Dictionary<string, torch.Tensor> _state = network.state_dict();
        private readonly Dictionary<string, double> _epsilon = network.named_modules()
            .Where(m => m.module is KeptScalarBatchNorm).ToDictionary(m => m.name, m => ((KeptScalarBatchNorm)m.module).eps);

        public string BasicBlock(string x, string prefix, int stride)
        {
            var y = g.Op("Relu", [ConvBn(x, prefix + "conv1", prefix + "bn1", stride)]);
            y = ConvBn(y, prefix + "conv2", prefix + "bn2", 1);
            return Residual(x, y, prefix, stride);
        }

        /// <summary>torchvision's v1.5 bottleneck: the stride sits on the 3×3 convolution.</summary>
        public string Bottleneck(string x, string prefix, int stride)
        {
            var y = g.Op("Relu", [ConvBn(x, prefix + "conv1", prefix + "bn1", 1)]);
            y = g.Op("Relu", [ConvBn(y, prefix + "conv2", prefix + "bn2", stride)]);
            y = ConvBn(y, prefix + "conv3", prefix + "bn3", 1);
            return Residual(x, y, prefix, stride);
        }

        /// <summary>relu(y + shortcut(x)); the shortcut projects where the network has a downsample (torchvision's rule).</summary>
        private string Residual(string x, string y, string prefix, int stride)
        {
            var shortcut = _state.ContainsKey(prefix + "downsample.0.weight")
                ? ConvBn(x, prefix + "downsample.0", prefix + "downsample.1", stride) : x;
            return g.Op("Relu", [g.Op("Add", [y, shortcut])]);
        }

        /// <summary>A bias-free convolution (square kernel k, padding k / 2 as torchvision's) and its inference-mode BatchNorm.</summary>
        public string ConvBn(string x, string conv, string bn, int stride)
        {
            var weight = _state[conv + ".weight"];
            long kernel = weight.shape[2], pad = kernel / 2;
            var y = g.Op("Conv", [x, Constant(conv + ".weight")], Attribute("kernel_shape", kernel, kernel),
                Attribute("strides", (long)stride, stride), Attribute("pads", pad, pad, pad, pad));
            string[] parameters = ["weight", "bias", "running_mean", "running_var"]; // ONNX inputs scale, B, mean, var
            return g.Op("BatchNormalization", [y, .. parameters.Select(p => Constant($"{bn}.{p}"))],
                new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = (float)_epsilon[bn] });
        }

        private string Constant(string name)
        {
            using var scope = torch.NewDisposeScope(); // the copies below, not the network's own tensors
            var tensor = _state[name].detach().cpu().to(torch.ScalarType.Float32).contiguous();
            return g.Floats(name, tensor.data<float>().ToArray(), tensor.shape);
        }
    }
}
