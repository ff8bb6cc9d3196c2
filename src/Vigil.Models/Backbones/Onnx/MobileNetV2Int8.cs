using Vigil.Imaging;

namespace Vigil.Backbones.Onnx;

/// <summary>
/// The ONNX Model Zoo's ImageNet-pretrained MobileNetV2-1.0, int8 quantised in QOperator format
/// (mobilenetv2-12-int8.onnx), as the feature extractor "mobilenetv2_int8_onnx". The file fixes its input at
/// 224×224 RGB; Vigil makes the size symbolic, so other sizes run too, but keeps 224×224 with ImageNet mean/std as
/// the default preprocessing (the size it was trained and quantised at).
/// <para>
/// Layers, found by walking the graph (<see cref="FindStages"/>), are the outputs of the last inverted-residual block
/// at each stride, the analogues of ResNet's layer1..layer4: "layer1" 24 ch stride 4 (tensor 339_quantized, the
/// QLinearAdd Add_15), "layer2" 32 ch stride 8 (365_quantized, Add_32), "layer3" 96 ch stride 16 (426_quantized,
/// Add_72), "layer4" 320 ch stride 32 (624_quantized, Conv_94, the last block before the 1280-channel head conv).
/// </para>
/// </summary>
public static class MobileNetV2Int8
{
    public const string Name = "mobilenetv2_int8_onnx";
    public const string FileName = "mobilenetv2-12-int8.onnx";
    public const string Sha256 = "83530ad811bc31d2b60a5599a21265a5057608c9b044b4ee758cc22f2309f54f";
    public const int InputSize = 224;

    public static IReadOnlyList<string> StageNames { get; } = ["layer1", "layer2", "layer3", "layer4"];

    /// <summary>Resize to 224×224 (no crop, so defects at the border stay in view) and ImageNet normalisation.</summary>
    public static Preprocessing Preprocessing { get; } = Preprocessing.ImageNet(InputSize);

    /// <summary>
    /// Opens the model file (its sha256 is verified) returning <paramref name="layers"/> (default: all four stages).
    /// A <paramref name="randomWeightsSeed"/> gives the same graph with shuffled convolution weights, the untrained baseline;
    /// <paramref name="threads"/> caps ONNX Runtime's intra-op threads (0: one per core); <paramref name="preprocessing"/>
    /// replaces the default <see cref="Preprocessing"/> (any size; normalise with ImageNet mean/std).
    /// </summary>
    public static OnnxFeatureExtractor Open(string path, IReadOnlyList<string>? layers = null, int? randomWeightsSeed = null, int threads = 0,
        Preprocessing? preprocessing = null)
    {
        var wanted = layers ?? StageNames;
        var unknown = wanted.Where(l => !StageNames.Contains(l)).ToList();
        if (unknown.Count > 0)
            throw new VigilInputException($"{Name} has no layer {string.Join(", ", unknown)}; choose from {string.Join(", ", StageNames)}.");
        return OnnxFeatureExtractor.Open(path, model =>
        {
            var stages = FindStages(model);
            return wanted.Select(w => stages.Single(s => s.Name == w)).ToList();
        }, preprocessing ?? Preprocessing, Name, Sha256, randomWeightsSeed, threads, model => model.MakeInputSizeSymbolic());
    }

    /// <summary>
    /// Finds the four stage ends by following strides through the graph. In MobileNetV2 a stride-2 depthwise conv
    /// starts each new stage inside an inverted-residual block whose 1×1 expansion conv reads the previous stage's
    /// last block output: that tensor ends the stage. The last stage ends at the input of the 1×1 head conv feeding
    /// global average pooling.
    /// </summary>
    public static IReadOnlyList<OnnxLayer> FindStages(OnnxModel model)
    {
        var stride = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in model.GraphInputs) stride[input] = 1;
        var endsByStride = new SortedDictionary<int, string>();
        foreach (var node in model.Nodes)
        {
            if (node.Inputs.Count == 0 || !stride.TryGetValue(node.Inputs[0], out int inputStride)) continue;
            int nodeStride = IsConv(node) ? (int)(node.IntsAttribute("strides")?.Max() ?? 1) : 1;
            if (nodeStride > 1 && model.Producer(node.Inputs[0]) is { } expansion && IsConv(expansion) && model.Producer(expansion.Inputs[0]) != null)
                endsByStride[inputStride] = expansion.Inputs[0];
            if (node.OpType.Contains("GlobalAveragePool") && model.Producer(node.Inputs[0]) is { } head && IsConv(head))
            {
                endsByStride[inputStride] = head.Inputs[0];
                break;
            }
            foreach (var output in node.Outputs) stride[output] = inputStride * nodeStride;
        }
        int[] wanted = [4, 8, 16, 32];
        if (!wanted.All(endsByStride.ContainsKey))
            throw new VigilInputException($"The graph does not look like MobileNetV2: stage ends found at strides {string.Join(", ", endsByStride.Keys)}, expected {string.Join(", ", wanted)}.");
        return wanted.Select((s, i) => new OnnxLayer(StageNames[i], endsByStride[s])).ToList();
    }

    private static bool IsConv(OnnxNode node) => node.OpType is "QLinearConv" or "Conv";
}
