using TorchSharp;
using Vigil.Backbones;
using Vigil.Tests.Weights;
using Vigil.Imaging;
using Vigil.Weights;

namespace Vigil.Tests.Backbones;

public class FeatureExtractorTests
{
    private static ImageTensor RandomImage(int seed, int size)
    {
        var rng = new Random(seed);
        var img = new ImageTensor(3, size, size);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (float)rng.NextDouble();
        return img;
    }

    /// <summary>
    /// Equal up to float rounding: convolution kernels sum in batch-dependent order, so deep features differ in the
    /// last bits (seen: 4e-6 of a maximum of 4). Wrong normalisation or wrong stages differ by order 1.
    /// </summary>
    private static void AssertClose(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        float scale = expected.abs().max().item<float>(), diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 1e-5f * scale, $"max difference {diff} exceeds 1e-5 of the largest value {scale}");
    }

    [Fact]
    public void LayerShapesFollowTheArchitecture()
    {
        using var basic = ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(1), ["layer1", "layer2", "layer3", "layer4"]);
        Assert.Equal([(64, 4), (128, 8), (256, 16), (512, 32)], basic.LayerShapes);
        using var bottleneck = ResNetFeatureExtractor.Create("resnet50", WeightSource.Random(1), ["layer2", "layer3"]);
        Assert.Equal([(512, 8), (1024, 16)], bottleneck.LayerShapes);
        Assert.Equal(["layer2", "layer3"], bottleneck.Layers);
    }

    [Fact]
    public void ExtractNormalisesWithImageNetStatisticsAndReturnsTheRequestedStages()
    {
        var options = new FeatureExtractorOptions { Resize = 64, BatchSize = 2 };
        using var fx = ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(3), ["layer3", "layer1"], options);
        Assert.True(fx.IsRandomlyInitialised);
        var images = Enumerable.Range(0, 3).Select(i => RandomImage(i, 64)).ToList();
        var features = fx.Extract(images);
        try
        {
            Assert.Equal([3L, 256, 4, 4], features[0].shape);
            Assert.Equal([3L, 64, 16, 16], features[1].shape);

            // Reference: normalise by hand with torchvision's ImageNet constants and run the network directly.
            float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
            var data = images.SelectMany(img => img.Data.Select((v, i) => (v - mean[i / (64 * 64)]) / std[i / (64 * 64)])).ToArray();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var reference = fx.Network.ForwardStages(torch.tensor(data, [3, 3, 64, 64]), 3);
            AssertClose(reference[2], features[0]);
            AssertClose(reference[0], features[1]);
        }
        finally { foreach (var f in features) f.Dispose(); }
    }

    [Fact]
    public void ShallowLayersDoNotRunDeeperStages()
    {
        using var fx = ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(3), ["layer2"], new FeatureExtractorOptions { Resize = 32 });
        var calls = new Dictionary<string, int>();
        foreach (var (name, child) in fx.Network.named_children())
            if (child is TorchSharp.Modules.Sequential stage)
                stage.register_forward_hook((_, _, output) => { calls[name] = calls.GetValueOrDefault(name) + 1; return output; });
        var features = fx.Extract([RandomImage(0, 40)]);
        foreach (var f in features) f.Dispose();
        Assert.Equal(1, calls.GetValueOrDefault("layer1"));
        Assert.Equal(1, calls.GetValueOrDefault("layer2"));
        Assert.False(calls.ContainsKey("layer3"));
        Assert.False(calls.ContainsKey("layer4"));
    }

    [Fact]
    public void BatchSizeDoesNotChangeFeatures()
    {
        var images = Enumerable.Range(0, 3).Select(i => RandomImage(10 + i, 48)).ToList();
        using var one = ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(4), ["layer2"], new FeatureExtractorOptions { Resize = 32, BatchSize = 1 });
        using var three = ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(4), ["layer2"], new FeatureExtractorOptions { Resize = 32, BatchSize = 3 });
        using var a = one.Extract(images)[0];
        using var b = three.Extract(images)[0];
        AssertClose(a, b);
    }

    [Fact]
    public void ExplicitWeightFileIsLoadedAndNotMarkedRandom()
    {
        using var source = new ResNet(ResNetArchitecture.ResNet18);
        source.InitialiseRandomly(9);
        var path = StateFiles.TempPath(".safetensors");
        try
        {
            SafeTensorsWriter.Write(path, StateFiles.SafeTensorsEntries(source));
            using var fx = ResNetFeatureExtractor.Create("resnet18", WeightSource.FromFile(path), ["layer1"], store: new WeightStore(Path.GetTempPath(), null, []));
            Assert.False(fx.IsRandomlyInitialised);
            Assert.True(StateFiles.Identical(source.state_dict()["layer3.1.conv2.weight"], fx.Network.state_dict()["layer3.1.conv2.weight"]));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PretrainedWithoutFileOrNetworkSaysWhichFileToPlaceWhere()
    {
        var cache = Path.Combine(Path.GetTempPath(), $"vigil-empty-{Guid.NewGuid():N}");
        var e = Assert.Throws<VigilInputException>(() =>
            ResNetFeatureExtractor.Create("resnet18", WeightSource.Pretrained, ["layer2"], store: new WeightStore(cache, downloader: null, [])));
        Assert.Contains(Path.Combine(cache, "resnet18-f37072fd.pth"), e.Message);
        Assert.Contains("https://download.pytorch.org/models/resnet18-f37072fd.pth", e.Message);
        Assert.Contains("--weights random", e.Message);
    }

    [Fact]
    public void UnknownBackboneAndLayerAreInputErrors()
    {
        Assert.Contains("resnet18", Assert.Throws<VigilInputException>(() => ResNetFeatureExtractor.Create("resnet19", WeightSource.Random(), ["layer1"])).Message);
        Assert.Contains("layer5", Assert.Throws<VigilInputException>(() => ResNetFeatureExtractor.Create("resnet18", WeightSource.Random(), ["layer5"])).Message);
    }
}
