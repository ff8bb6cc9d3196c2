using Microsoft.ML.OnnxRuntime;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Imaging;
using Vigil.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vigil.Tests.Backbones.Onnx;

/// <summary>
/// The ImageNet ResNet18 of ML.NET's NuGet package: the file the build brings, its layout, its preprocessing graph,
/// and the agreement of the ONNX Runtime extractor, the TorchSharp network and the unmodified exported graph.
/// </summary>
public class ResNet18ImageNetTests(ITestOutputHelper output)
{
    private static string ModelPath => ResNet18ImageNet.DefaultPath();

    private static string PreprocessPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    private static List<ImageTensor> MtdImages()
    {
        var mtd = SharedData.RequireDirectory("data", "mtd");
        return new[] { "MT_Free", "MT_Blowhole", "MT_Crack" }
            .SelectMany(c => Directory.GetFiles(Path.Combine(mtd, c, "Imgs"), "*.jpg").Order(StringComparer.Ordinal).Take(2))
            .Select(ImageIO.ReadRgb).ToList();
    }

    /// <summary>max |a - b| / max |b|: the relative difference of two feature maps.</summary>
    private static double RelativeDifference(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        return (actual - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();
    }

    [Fact]
    public void TheBuildBringsThePackagesFileBesideTheAssemblies()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", ResNet18ImageNet.FileName), ModelPath);
        using var file = File.OpenRead(ModelPath);
        Assert.Equal(ResNet18ImageNet.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)));
    }

    [Fact]
    public void LayoutIsTorchvisionsResNet18WithAThirdBlockInStageFour()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        var layout = OnnxResNetLayout.Read(model);
        Assert.Equal([2, 2, 2, 3], layout.BlocksPerStage);
        Assert.Equal([7L, 7], layout.Stem.Conv.IntsAttribute("kernel_shape"));
        Assert.Equal([2L, 2], layout.Stem.Conv.IntsAttribute("strides"));
        Assert.Equal([3L, 3, 2, 2], layout.Stem.Conv.IntsAttribute("pads")); // CNTK's "same" padding fixed for 224
        Assert.Equal([3L, 3], layout.MaxPool.IntsAttribute("kernel_shape"));
        Assert.Equal([1L, 1, 0, 0], layout.MaxPool.IntsAttribute("pads"));
        // Projection shortcuts exactly at the first block of stages 2-4, stride 2 on conv1 and the projection.
        Assert.Equal([(2, 0), (3, 0), (4, 0)], layout.Blocks.Where(b => b.Downsample != null).Select(b => (b.Stage, b.Index)));
        foreach (var block in layout.Blocks)
        {
            long stride = block.Downsample != null ? 2 : 1;
            Assert.Equal([stride, stride], block.Conv1.Conv.IntsAttribute("strides"));
            Assert.Equal([1L, 1], block.Conv2.Conv.IntsAttribute("strides"));
            Assert.Equal(1e-5f, block.Conv1.BatchNorm.FloatAttribute("epsilon")!.Value, 1e-9f);
        }
        Assert.Equal(["ReLU283_Output_0", "ReLU315_Output_0", "ReLU347_Output_0", "ReLU393_Output_0"], layout.StageOutputs);
        // The exported graph pools exactly the last stage's output.
        Assert.Equal("Pooling395", model.Consumers(layout.StageOutputs[3]).Single().Name);
    }

    [Fact]
    public void EveryOnnxWeightLandsInTheTorchSharpNetwork()
    {
        // By hand: torchvision's resnet18 has 11,689,512 parameters; without fc (512·1000 + 1000) and with a third
        // stage-4 block (two 512×512×3×3 convolutions and two BatchNorms of 512 weights and biases): 15,897,152.
        using var network = ResNet18ImageNet.LoadNetwork(ModelPath);
        long parameters = network.parameters().Sum(p => p.numel());
        Assert.Equal(11_689_512 - 513_000 + 2 * 512 * 512 * 9 + 2 * 2 * 512, parameters);
        // The ONNX initializers hold the same parameters plus each BatchNorm's running mean and variance (inputs 3, 4).
        var model = OnnxModel.Parse(File.ReadAllBytes(ModelPath));
        var statistics = model.Nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Inputs.Skip(3)).ToHashSet();
        long onnxParameters = model.InitializerNames.Where(n => !statistics.Contains(n)).Sum(n => (long)model.ReadInitializer(n).Values.Length);
        Assert.Equal(onnxParameters, parameters);
    }

    [Fact]
    public void PreprocessGraphSwapsToBgrAndSubtractsANonConstantMeanImageWhoseChannelMeansVigilUses()
    {
        var model = OnnxModel.Parse(File.ReadAllBytes(PreprocessPath));
        var split = model.Nodes.Single(n => n.OpType == "Split");
        var concat = model.Nodes.Single(n => n.OpType == "Concat");
        var sub = model.Nodes.Single(n => n.OpType == "Sub");
        Assert.Equal(split.Outputs.Reverse(), concat.Inputs); // R, G, B split, concatenated as B, G, R
        Assert.Equal(concat.Outputs[0], sub.Inputs[0]);
        var (dims, mean) = model.ReadInitializer(sub.Inputs[1]);
        Assert.Equal([1L, 3, 224, 224], dims);
        int plane = 224 * 224;
        for (int bgr = 0; bgr < 3; bgr++)
        {
            var channel = mean.AsSpan(bgr * plane, plane).ToArray();
            double average = channel.Average(v => (double)v);
            output.WriteLine($"mean image channel {"BGR"[bgr]}: average {average:F4}, min {channel.Min():F2}, max {channel.Max():F2}");
            Assert.Equal(ResNet18ImageNet.ChannelMeans[2 - bgr], average, 1e-4);
            Assert.True(channel.Max() - channel.Min() > 10, "the mean image varies over the image, by more than 10 grey levels per channel");
        }
    }

    [Fact]
    public void PreparedGraphAndTorchSharpGiveTheExportedGraphsPooledFeaturesAt224()
    {
        // The unmodified export (BGR input, asymmetric pads, fixed 224, batch 1) fed what Vigil's preprocessing gives,
        // with the channels swapped by hand: its pooled output must be the spatial mean of Vigil's layer4.
        var images = MtdImages().Take(3).ToList();
        var options = new FeatureExtractorOptions { Resize = 224 };
        using var ort = ResNet18ImageNet.Open(ModelPath, ["layer4"], options);
        using var torchSharp = ResNet18ImageNet.OpenTorch(WeightSource.Pretrained, ["layer4"], options);
        using var session = new InferenceSession(ModelPath);
        using var ortLayer4 = ort.Extract(images)[0];
        using var torchLayer4 = torchSharp.Extract(images)[0];
        for (int i = 0; i < images.Count; i++)
        {
            var rgb = ort.Preprocessing.Apply(images[i]).Data;
            int plane = 224 * 224;
            var bgr = new float[rgb.Length];
            for (int c = 0; c < 3; c++) Array.Copy(rgb, c * plane, bgr, (2 - c) * plane, plane);
            using var input = OrtValue.CreateTensorValueFromMemory(bgr, [1, 3, 224, 224]);
            using var outputs = session.Run(new RunOptions(), ["Input247"], [input], ["Pooling395_Output_0"]);
            using var exported = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), [512L]);
            using var ortPooled = ortLayer4[i].mean([1, 2]);
            using var torchPooled = torchLayer4[i].mean([1, 2]);
            double ortDifference = RelativeDifference(ortPooled, exported), torchDifference = RelativeDifference(torchPooled, exported);
            output.WriteLine($"image {i}: pooled layer4 vs exported graph, relative difference ORT {ortDifference:E2}, TorchSharp {torchDifference:E2}");
            Assert.True(ortDifference < 1e-5, $"ORT {ortDifference:E2}");
            Assert.True(torchDifference < 1e-4, $"TorchSharp {torchDifference:E2}");
        }
    }

    [Theory]
    [InlineData(224)]
    [InlineData(256)]
    [InlineData(200)] // odd sizes inside the network (25 → 13 at layer4): symmetric pads on both sides
    public void OnnxRuntimeAndTorchSharpGiveTheSameFeaturesOnMtdImages(int size)
    {
        var images = MtdImages();
        var options = new FeatureExtractorOptions { Resize = size, BatchSize = 3 };
        using var ort = ResNet18ImageNet.Open(ModelPath, options: options);
        using var torchSharp = ResNet18ImageNet.OpenTorch(WeightSource.Pretrained, ResNet18ImageNet.StageNames, options);
        Assert.Equal(ort.LayerShapes, torchSharp.LayerShapes);
        Assert.Equal(ort.Preprocessing.Mean, torchSharp.Preprocessing.Mean);
        Assert.Equal(ort.Preprocessing.Std, torchSharp.Preprocessing.Std);
        Assert.Equal((size, size), (torchSharp.Preprocessing.OutputHeight, torchSharp.Preprocessing.OutputWidth));
        var fromOrt = ort.Extract(images);
        var fromTorch = torchSharp.Extract(images);
        for (int l = 0; l < 4; l++)
        {
            Assert.Equal((long)Math.Ceiling(size / (double)(4 << l)), fromOrt[l].shape[2]);
            double difference = RelativeDifference(fromTorch[l], fromOrt[l]);
            output.WriteLine($"{size}px layer{l + 1} [{string.Join(", ", fromOrt[l].shape)}]: relative difference {difference:E2}");
            Assert.True(difference <= 1e-4, $"layer{l + 1} at {size}px differs by {difference:E2}");
        }
        foreach (var t in fromOrt.Concat(fromTorch)) t.Dispose();
    }

    [Fact]
    public void TheTorchSharpNetworkIsTrainable()
    {
        using var network = ResNet18ImageNet.LoadNetwork(ModelPath);
        Assert.True(network.training);
        Assert.All(network.parameters(), p => Assert.True(p.requires_grad));
        using var scope = NewDisposeScope();
        var random = new Generator(3).manual_seed(3);
        var batch = rand([2, 3, 64, 64], generator: random) * 255 - 115;
        var runningMean = network.state_dict()["bn1.running_mean"].clone();
        var stages = network.ForwardStages(batch, 4);
        Assert.Equal([2L, 512, 2, 2], stages[3].shape);
        stages[3].mean().backward();
        var grad = network.named_parameters().Single(p => p.name == "conv1.weight").parameter.grad;
        Assert.NotNull(grad);
        Assert.True(grad!.abs().sum().item<float>() > 0);
        Assert.False(network.state_dict()["bn1.running_mean"].allclose(runningMean), "train mode updates BatchNorm statistics");
        using var pooled = network.forward(batch);
        Assert.Equal([2L, 512], pooled.shape); // no classifier: the 512 pooled features
    }

    [Fact]
    public void CatalogOpensBothWaysWithFingerprintsAndSeededRandomWeights()
    {
        using var ort = BackboneCatalog.Open(ResNet18ImageNet.Name, WeightSource.Pretrained, ["layer2"]);
        using var torchSharp = BackboneCatalog.Open(ResNet18ImageNet.TorchName, WeightSource.Pretrained, ["layer2"]);
        Assert.Equal((ResNet18ImageNet.Name, ResNet18ImageNet.TorchName), (ort.Name, torchSharp.Name));
        Assert.Equal(ResNet18ImageNet.Sha256, ((IWeightsFingerprint)ort).WeightsSha256);
        Assert.Equal(ResNet18ImageNet.Sha256, ((IWeightsFingerprint)torchSharp).WeightsSha256);
        Assert.Equal((256, 256), (ort.Preprocessing.OutputHeight, ort.Preprocessing.OutputWidth));

        using var shuffled = BackboneCatalog.Open(ResNet18ImageNet.Name, WeightSource.Random(5), ["layer2"]);
        using var initialised = BackboneCatalog.Open(ResNet18ImageNet.TorchName, WeightSource.Random(5), ["layer2"]);
        using var again = BackboneCatalog.Open(ResNet18ImageNet.TorchName, WeightSource.Random(5), ["layer2"]);
        Assert.True(shuffled.IsRandomlyInitialised && initialised.IsRandomlyInitialised);
        Assert.Equal("random:5", ((IWeightsFingerprint)shuffled).WeightsSha256);
        Assert.Equal("random:5", ((IWeightsFingerprint)initialised).WeightsSha256);
        var image = MtdImages()[0];
        using var a = initialised.Extract([image])[0];
        using var b = again.Extract([image])[0];
        using var pretrained = ort.Extract([image])[0];
        using var fromShuffled = shuffled.Extract([image])[0];
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray()); // the same seed gives the same network
        Assert.True(RelativeDifference(fromShuffled, pretrained) > 0.1, "shuffled weights change the features");
    }

    [Fact]
    public void UnknownLayersAndAWrongFileAreRejectedWithTheirNames()
    {
        Assert.Contains("layer5", Assert.Throws<VigilInputException>(() => ResNet18ImageNet.Open(ModelPath, ["layer5"])).Message);
        Assert.Contains(ResNet18ImageNet.Sha256, Assert.Throws<VigilInputException>(() => ResNet18ImageNet.LoadNetwork(PreprocessPath)).Message);
        Assert.Contains(ResNet18ImageNet.Sha256, Assert.Throws<VigilInputException>(() => ResNet18ImageNet.Open(PreprocessPath)).Message);
    }
}
