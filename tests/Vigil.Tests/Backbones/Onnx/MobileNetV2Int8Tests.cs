using Microsoft.ML.OnnxRuntime;
using Vigil.Backbones.Onnx;
using Vigil.Imaging;

namespace Vigil.Tests.Backbones.Onnx;

public class MobileNetV2Int8Tests
{
    private static string ModelPath => SharedData.RequireDirectory("weights", "mobilenetv2-12-int8.onnx");

    private static ImageTensor RandomImage(int height, int width, int seed)
    {
        var random = new Random(seed);
        var image = new ImageTensor(3, height, width);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = random.NextSingle();
        return image;
    }

    [Fact]
    public void StageShapesAndStridesMatchTheArchitecture()
    {
        using var extractor = MobileNetV2Int8.Open(ModelPath);
        Assert.Equal(MobileNetV2Int8.StageNames, extractor.Layers);
        // MobileNetV2 (Sandler et al. 2018, Table 2) at 224x224: 24 ch at 56x56, 32 at 28x28, 96 at 14x14, 320 at 7x7.
        Assert.Equal([(24, 4), (32, 8), (96, 16), (320, 32)], extractor.LayerShapes);
        var features = extractor.Extract([RandomImage(300, 200, seed: 1)]);
        Assert.Equal([1L, 24, 56, 56], features[0].shape);
        Assert.Equal([1L, 32, 28, 28], features[1].shape);
        Assert.Equal([1L, 96, 14, 14], features[2].shape);
        Assert.Equal([1L, 320, 7, 7], features[3].shape);
        foreach (var f in features) f.Dispose();
    }

    [Fact]
    public void StagesAreTheLastBlockOutputsAtEachStride()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        var stages = MobileNetV2Int8.FindStages(model);
        // Read off the graph by hand: residual adds Add_15 / Add_32 / Add_72 close the stride 4 / 8 / 16 stages, and the
        // 320-ch projection Conv_94 is the last block before the 1280-ch head conv.
        Assert.Equal(["339_quantized", "365_quantized", "426_quantized", "624_quantized"], stages.Select(s => s.Tensor));
        Assert.Equal(["Add_15_quant", "Add_32_quant", "Add_72_quant", "Conv_94_quant"], stages.Select(s => model.Producer(s.Tensor)!.Name));
    }

    [Fact]
    public void BatchRunEqualsImageByImageRuns()
    {
        using var extractor = MobileNetV2Int8.Open(ModelPath, ["layer2"]);
        var images = new[] { RandomImage(224, 224, 1), RandomImage(100, 300, 2), RandomImage(400, 150, 3) };
        using var batch = extractor.Extract(images)[0];
        Assert.Equal([3L, 32, 28, 28], batch.shape);
        for (int i = 0; i < images.Length; i++)
        {
            using var single = extractor.Extract([images[i]])[0];
            using var row = batch[i].unsqueeze(0);
            Assert.Equal(single.data<float>().ToArray(), row.data<float>().ToArray());
        }
    }

    [Fact]
    public void DequantisedFeaturesEqualScaleTimesQuantisedMinusZeroPoint()
    {
        // Raw uint8 activation of stage3, read from a separately edited copy of the graph.
        var bytes = File.ReadAllBytes(ModelPath);
        var model = OnnxModel.Parse(bytes);
        var stage3 = MobileNetV2Int8.FindStages(model).Single(s => s.Name == "layer3").Tensor;
        model.AddOutput(stage3);
        // The quantizer names a tensor's parameters "<base>_scale" / "<base>_zero_point" (independent of input positions).
        var baseName = stage3[..stage3.LastIndexOf("_quantized", StringComparison.Ordinal)];
        float scale = model.ReadInitializer(baseName + "_scale").Values.Single();
        float zeroPoint = model.ReadInitializer(baseName + "_zero_point").Values.Single();

        var image = RandomImage(224, 224, seed: 5);
        var prepared = MobileNetV2Int8.Preprocessing.Apply(image);
        using var session = new InferenceSession(model.ToBytes());
        using var input = OrtValue.CreateTensorValueFromMemory(prepared.Data, [1, 3, 224, 224]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], [stage3]);
        var quantised = outputs[0].GetTensorDataAsSpan<byte>().ToArray();

        using var extractor = MobileNetV2Int8.Open(ModelPath, ["layer3"]);
        using var features = extractor.Extract([image])[0];
        var actual = features.data<float>().ToArray();
        Assert.Equal(quantised.Length, actual.Length);
        Assert.True(quantised.Distinct().Count() > 10, "activation should not be constant");
        for (int i = 0; i < actual.Length; i++) Assert.Equal(scale * (quantised[i] - zeroPoint), actual[i], 1e-5f);
    }

    [Fact]
    public void WrongChecksumIsRejectedWithTheFileNamed()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"vigil-onnx-{Guid.NewGuid():N}.onnx");
        var bytes = File.ReadAllBytes(ModelPath);
        bytes[^1] ^= 1;
        File.WriteAllBytes(copy, bytes);
        try
        {
            var error = Assert.Throws<VigilInputException>(() => MobileNetV2Int8.Open(copy));
            Assert.Contains(copy, error.Message);
            Assert.Contains(MobileNetV2Int8.Sha256, error.Message);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void InputSizeOtherThanTheFixedGraphSizeIsRejected()
    {
        // The graph input is [batch_size, 3, 224, 224]: only the batch dimension is dynamic.
        var stages = MobileNetV2Int8.FindStages(OnnxModel.Parse(File.ReadAllBytes(ModelPath)));
        var error = Assert.Throws<VigilInputException>(() => OnnxFeatureExtractor.Open(ModelPath, stages, Preprocessing.ImageNet(256)));
        Assert.Contains("224x224", error.Message);
    }

    [Fact]
    public void MobileNetRunsAtOtherSizesWithItsInputMadeSymbolic()
    {
        // The same file through MobileNetV2Int8.Open, which makes the input size symbolic: 256 and 200 pixels run,
        // with ceil(n / stride) cells per layer (200 → 50, 25, 13, 7).
        using var at256 = MobileNetV2Int8.Open(ModelPath, ["layer1", "layer4"], preprocessing: Preprocessing.ImageNet(256));
        Assert.Equal([(24, 4), (320, 32)], at256.LayerShapes);
        using var at200 = MobileNetV2Int8.Open(ModelPath, preprocessing: Preprocessing.ImageNet(200));
        Assert.Equal([(24, 4), (32, 8), (96, 16), (320, 32)], at200.LayerShapes);
        var features = at200.Extract([RandomImage(300, 200, seed: 1), RandomImage(120, 90, seed: 2)]);
        Assert.Equal([[2L, 24, 50, 50], [2L, 32, 25, 25], [2L, 96, 13, 13], [2L, 320, 7, 7]], features.Select(f => f.shape));
        foreach (var f in features) f.Dispose();
        using var byDefault = MobileNetV2Int8.Open(ModelPath, ["layer2"]);
        Assert.Equal((224, 224), (byDefault.Preprocessing.OutputHeight, byDefault.Preprocessing.OutputWidth));
    }

    [Fact]
    public void UnknownTensorIsRejected()
    {
        var error = Assert.Throws<VigilInputException>(() =>
            OnnxFeatureExtractor.Open(ModelPath, [new OnnxLayer("x", "no_such_tensor")], MobileNetV2Int8.Preprocessing));
        Assert.Contains("no_such_tensor", error.Message);
    }

    [Fact]
    public void OneTensorUnderTwoLayerNamesGivesTwoEqualIndependentTensors()
    {
        var stages = MobileNetV2Int8.FindStages(OnnxModel.Parse(File.ReadAllBytes(ModelPath)));
        var tensor = stages.Single(s => s.Name == "layer2").Tensor;
        using var extractor = OnnxFeatureExtractor.Open(ModelPath, [new OnnxLayer("a", tensor), new OnnxLayer("b", tensor)], MobileNetV2Int8.Preprocessing);
        var features = extractor.Extract([RandomImage(224, 224, seed: 2)]);
        Assert.Equal(features[0].data<float>().ToArray(), features[1].data<float>().ToArray());
        features[0].Dispose();
        Assert.Equal([1L, 32, 28, 28], features[1].shape);
        features[1].Dispose();
    }

    [Fact]
    public void QuantisedGlobalPoolEqualsTheMeanOfTheFloatHeadWithinItsQuantisationStep()
    {
        // "627" is the model's own DequantizeLinear output (float, 1280-ch head at stride 32), returned as is;
        // "464_quantized" is QLinearGlobalAveragePool of the same head, dequantised by the extractor.
        using var extractor = OnnxFeatureExtractor.Open(ModelPath, [new OnnxLayer("head", "627"), new OnnxLayer("pooled", "464_quantized")], MobileNetV2Int8.Preprocessing);
        Assert.Equal([(1280, 32), (1280, 224)], extractor.LayerShapes);
        Assert.False(extractor.IsRandomlyInitialised);
        var features = extractor.Extract([RandomImage(224, 224, seed: 9)]);
        var mean = features[0].mean([2, 3]).data<float>().ToArray();
        var pooled = features[1].data<float>().ToArray();
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        float step = model.ReadInitializer("464_scale").Values.Single();
        for (int c = 0; c < 1280; c++) Assert.InRange(pooled[c] - mean[c], -step, step);
        Assert.True(pooled.Distinct().Count() > 100, "pooled features should vary over channels");
        foreach (var f in features) f.Dispose();
    }

    [Fact]
    public void ModelFilesRecordTheWeightFileHashOrTheShuffleSeed()
    {
        // The published hash (shared/README.md), so a saved model names exactly the weights its memory bank came from.
        using var pretrained = MobileNetV2Int8.Open(ModelPath, ["layer2"]);
        Assert.Equal("83530ad811bc31d2b60a5599a21265a5057608c9b044b4ee758cc22f2309f54f", Vigil.Backbones.BackboneReference.Of(pretrained).WeightsSha256);
        using var shuffled = MobileNetV2Int8.Open(ModelPath, ["layer2"], randomWeightsSeed: 7);
        Assert.Equal("random:7", Vigil.Backbones.BackboneReference.Of(shuffled).WeightsSha256);
    }
}
