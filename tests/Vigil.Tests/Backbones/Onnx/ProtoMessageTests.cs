using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Vigil.Backbones.Onnx;

namespace Vigil.Tests.Backbones.Onnx;

public class ProtoMessageTests
{
    private static string ModelPath => SharedData.RequireDirectory("weights", "mobilenetv2-12-int8.onnx");

    [Fact]
    public void DecodesAndEncodesTheProtobufDocumentationExamples()
    {
        // protobuf.dev "Encoding": field 1 = 150 is 08 96 01; a string field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
        byte[] varintExample = [0x08, 0x96, 0x01];
        var parsed = ProtoMessage.Parse(varintExample);
        Assert.Equal(ProtoField.Varint(1, 150).Value, Assert.Single(parsed.Fields).Value);
        Assert.Equal(WireType.Varint, parsed.Fields[0].Type);
        Assert.Equal(varintExample, new ProtoMessage([ProtoField.Varint(1, 150)]).ToBytes());

        byte[] stringExample = [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67];
        Assert.Equal("testing", ProtoMessage.Parse(stringExample).Fields[0].AsString());
        Assert.Equal(stringExample, new ProtoMessage([ProtoField.String(2, "testing")]).ToBytes());
    }

    [Fact]
    public void TruncatedMessageIsRejected()
    {
        byte[] lengthPastEnd = [0x12, 0x07, 0x74, 0x65];
        Assert.Throws<FormatException>(() => ProtoMessage.Parse(lengthPastEnd));
    }

    [Fact]
    public void UneditedModelReencodesToIdenticalBytes()
    {
        var bytes = File.ReadAllBytes(ModelPath);
        Assert.Equal(bytes, ProtoMessage.Parse(bytes).ToBytes());
        Assert.Equal(bytes, OnnxModel.Parse(bytes).ToBytes());
    }

    [Fact]
    public void GraphViewMatchesTheModelZooFile()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        Assert.Equal(["input"], model.GraphInputs);
        Assert.Equal(["output"], model.GraphOutputs);
        var firstConv = model.Nodes[1];
        Assert.Equal("QLinearConv", firstConv.OpType);
        Assert.Equal([2L, 2L], firstConv.IntsAttribute("strides"));
        var (dims, weights) = model.ReadInitializer(firstConv.Inputs[3]);
        Assert.Equal([32L, 3, 3, 3], dims); // MobileNetV2 stem: 32 filters of 3x3 over RGB
        Assert.All(weights, w => Assert.InRange(w, -128, 127));
    }

    [Fact]
    public void AddedOutputAppearsInOnnxRuntimeOutputMetadata()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        model.AddOutput("365_quantized");
        using var session = new InferenceSession(model.ToBytes());
        Assert.Contains("output", session.OutputMetadata.Keys);
        Assert.Equal(TensorElementType.UInt8, session.OutputMetadata["365_quantized"].ElementDataType);
    }

    [Fact]
    public void PruningKeepsExactlyTheNodesUpToTheRequestedTensor()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        // MobileNetV2 is a chain of blocks: every node up to the stride-8 stage's last residual add feeds it, none after.
        int lastNeeded = model.Nodes.ToList().FindIndex(n => n.Outputs.Contains("365_quantized"));
        var expected = model.Nodes.Take(lastNeeded + 1).Select(n => n.Name).ToList();
        model.ClearOutputs();
        model.AddOutput("365_quantized");
        model.RemoveNodesNotFeedingOutputs();
        Assert.Equal(expected, model.Nodes.Select(n => n.Name));

        using var session = new InferenceSession(model.ToBytes());
        using var input = OrtValue.CreateTensorValueFromMemory(new float[3 * 224 * 224], [1, 3, 224, 224]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["365_quantized"]);
        Assert.Equal([1L, 32, 28, 28], outputs[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void ShuffledWeightsKeepEachFiltersValuesAndAreReproducible()
    {
        var bytes = File.ReadAllBytes(ModelPath);
        var original = OnnxModel.Parse(bytes);
        var shuffled = OnnxModel.Parse(bytes);
        shuffled.ShuffleConvolutionWeights(seed: 3);
        var again = OnnxModel.Parse(bytes);
        again.ShuffleConvolutionWeights(seed: 3);
        Assert.Equal(shuffled.ToBytes(), again.ToBytes());

        var weightName = original.Nodes.First(n => n.OpType == "QLinearConv" && n.Inputs[3] == "493_quantized").Inputs[3];
        var (dims, before) = original.ReadInitializer(weightName);
        var (_, after) = shuffled.ReadInitializer(weightName);
        Assert.NotEqual(before, after);
        int perFilter = before.Length / (int)dims[0];
        for (int c = 0; c < dims[0]; c++)
        {
            var a = before.Skip(c * perFilter).Take(perFilter).Order();
            var b = after.Skip(c * perFilter).Take(perFilter).Order();
            Assert.Equal(a, b);
        }
    }
}
