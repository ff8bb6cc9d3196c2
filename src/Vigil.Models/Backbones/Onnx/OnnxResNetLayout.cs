namespace Vigil.Backbones.Onnx;

/// <summary>A convolution and the BatchNormalization that reads it (ONNX inputs: X, scale, B, mean, var).</summary>
public sealed record OnnxConvBn(OnnxNode Conv, OnnxNode BatchNorm);

/// <summary>
/// One basic residual block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut being x itself or a
/// 1×1 convolution + BatchNormalization (<see cref="Downsample"/>). <see cref="Output"/> is the tensor after the final Relu.
/// </summary>
public sealed record OnnxResNetBlock(int Stage, int Index, OnnxConvBn Conv1, OnnxConvBn Conv2, OnnxConvBn? Downsample, string Input, string Output);

/// <summary>
/// The structure of a basic-block ResNet read from its ONNX graph by following tensors, not by node names: the stem
/// (convolution, BatchNormalization, Relu, MaxPool) and every residual block, grouped into stages (a block whose
/// shortcut projects starts a new stage). Serves both the ONNX Runtime extractor (stage outputs as feature layers) and
/// the import of the weights into TorchSharp (which parameter is which).
/// </summary>
public sealed class OnnxResNetLayout
{
    private OnnxResNetLayout(OnnxConvBn stem, OnnxNode maxPool, IReadOnlyList<OnnxResNetBlock> blocks)
    {
        Stem = stem;
        MaxPool = maxPool;
        Blocks = blocks;
        BlocksPerStage = blocks.GroupBy(b => b.Stage).OrderBy(g => g.Key).Select(g => g.Count()).ToArray();
        StageOutputs = blocks.GroupBy(b => b.Stage).OrderBy(g => g.Key).Select(g => g.Last().Output).ToList();
    }

    public OnnxConvBn Stem { get; }
    public OnnxNode MaxPool { get; }
    public IReadOnlyList<OnnxResNetBlock> Blocks { get; }
    public IReadOnlyList<int> BlocksPerStage { get; }

    /// <summary>The output tensor of each stage (layer1, layer2, …).</summary>
    public IReadOnlyList<string> StageOutputs { get; }

    /// <summary>Reads the layout; throws <see cref="VigilInputException"/> when the graph is not a chain of basic blocks.</summary>
    public static OnnxResNetLayout Read(OnnxModel model)
    {
        var stemConv = model.Nodes.FirstOrDefault(n => n.OpType == "Conv")
            ?? throw NotAResNet("it has no convolution");
        var stemBn = SingleConsumer(model, stemConv, "BatchNormalization");
        var stemRelu = SingleConsumer(model, stemBn, "Relu");
        var maxPool = SingleConsumer(model, stemRelu, "MaxPool");

        var blocks = new List<OnnxResNetBlock>();
        string input = maxPool.Outputs[0];
        int stage = 1, index = 0;
        foreach (var add in model.Nodes.Where(n => n.OpType == "Add"))
        {
            var block = ReadBlock(model, add, input)
                ?? throw NotAResNet($"the residual Add '{add.Name}' is not a basic block reading '{input}'");
            if (block.Downsample != null && blocks.Count > 0) (stage, index) = (stage + 1, 0);
            blocks.Add(block with { Stage = stage, Index = index++ });
            input = block.Output;
        }
        if (blocks.Count == 0) throw NotAResNet("it has no residual Add");
        return new OnnxResNetLayout(new OnnxConvBn(stemConv, stemBn), maxPool, blocks);
    }

    /// <summary>Matches add(bn2(conv2(relu(bn1(conv1(input))))), shortcut(input)) in either input order.</summary>
    private static OnnxResNetBlock? ReadBlock(OnnxModel model, OnnxNode add, string input)
    {
        if (add.Inputs.Count != 2) return null;
        for (int main = 0; main < 2; main++)
        {
            var conv2 = ConvBnProducing(model, add.Inputs[main]);
            if (conv2 == null || model.Producer(conv2.Conv.Inputs[0]) is not { OpType: "Relu" } relu) continue;
            var conv1 = ConvBnProducing(model, relu.Inputs[0]);
            if (conv1 == null || conv1.Conv.Inputs[0] != input) continue;
            var shortcut = add.Inputs[1 - main];
            OnnxConvBn? downsample = null;
            if (shortcut != input)
            {
                downsample = ConvBnProducing(model, shortcut);
                if (downsample == null || downsample.Conv.Inputs[0] != input) continue;
            }
            var output = model.Consumers(add.Outputs[0]).ToList() is [{ OpType: "Relu" } final] ? final.Outputs[0] : null;
            if (output == null) continue;
            return new OnnxResNetBlock(0, 0, conv1, conv2, downsample, input, output);
        }
        return null;
    }

    private static OnnxConvBn? ConvBnProducing(OnnxModel model, string tensor) =>
        model.Producer(tensor) is { OpType: "BatchNormalization" } bn && model.Producer(bn.Inputs[0]) is { OpType: "Conv" } conv
            ? new OnnxConvBn(conv, bn) : null;

    private static OnnxNode SingleConsumer(OnnxModel model, OnnxNode node, string opType) =>
        model.Consumers(node.Outputs[0]).ToList() is [var only] && only.OpType == opType ? only
            : throw NotAResNet($"the stem's '{node.Name}' is not followed by a single {opType}");

    private static VigilInputException NotAResNet(string why) =>
        new($"The ONNX graph is not a basic-block ResNet: {why}.");
}
