using Microsoft.ML.OnnxRuntime;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Deployment;
using Vigil.Detectors.Padim;
using Vigil.Imaging;
using Vigil.Tests.Detectors;
using Vigil.Tests.Weights;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Backbones.Onnx;

/// <summary>
/// The torchvision ResNets written as ONNX graphs (<see cref="OnnxResNet"/>) against the TorchSharp module they were
/// written from: layer outputs, a subset of layers, the backbone identity, and a fitted PaDiM through both runtimes.
/// </summary>
public class OnnxResNetTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    /// <summary>max |a - b| / max |b|: the relative difference of two feature maps.</summary>
    private static double RelativeDifference(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        return (actual - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();
    }

    /// <summary>
    /// A network with torchvision's random initialisation and then random BatchNorm parameters and running statistics,
    /// which a fresh initialisation leaves at the identity (γ 1, β 0, mean 0, var 1), hiding a mix-up of them.
    /// </summary>
    private static ResNet RandomNetwork(ResNetArchitecture architecture, long seed)
    {
        var network = new ResNet(architecture);
        network.InitialiseRandomly(seed);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed + 1);
        foreach (var (_, module) in network.named_modules())
        {
            if (module is not KeptScalarBatchNorm bn) continue;
            bn.weight!.uniform_(0.5, 1.5, generator);
            bn.bias!.normal_(0, 0.2, generator);
            bn.running_mean!.normal_(0, 0.2, generator);
            bn.running_var!.uniform_(0.5, 2, generator);
        }
        network.eval();
        return network;
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("wide_resnet50_2")]
    public void GraphLayersEqualTheTorchSharpModule(string name)
    {
        using var network = RandomNetwork(TorchBackbones.Architecture(name), seed: 7);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn([2, 3, 64, 64], generator: new Generator(3));
        var expected = network.ForwardStages(input, 4);

        using var session = new InferenceSession(OnnxResNet.Write(network, 4));
        using var image = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [2, 3, 64, 64]);
        string[] layers = ["layer1", "layer2", "layer3", "layer4"];
        using var outputs = session.Run(new RunOptions(), ["image"], [image], layers);
        for (int l = 0; l < layers.Length; l++)
        {
            var actual = tensor(outputs[l].GetTensorDataAsSpan<float>().ToArray(), outputs[l].GetTensorTypeAndShape().Shape);
            Assert.True(expected[l].abs().max().item<float>() > 0, $"{name} {layers[l]} is all zero: the comparison would be empty");
            double difference = RelativeDifference(actual, expected[l]);
            Assert.True(difference < 1e-4, $"{name} {layers[l]}: relative difference {difference:E2}");
        }
    }

    [Fact]
    public void TheGraphStopsAtTheDeepestStageAskedFor()
    {
        using var network = RandomNetwork(ResNetArchitecture.ResNet18, seed: 2);
        var model = OnnxModel.Parse(OnnxResNet.Write(network, 2));
        Assert.Equal(["layer1", "layer2"], model.GraphOutputs);
        // Stem 1, two basic blocks of two convolutions per stage, layer2's projection shortcut 1.
        Assert.Equal(1 + 4 + 4 + 1, model.Nodes.Count(n => n.OpType == "Conv"));
        Assert.Equal(1 + 4 + 4 + 1, model.Nodes.Count(n => n.OpType == "BatchNormalization"));
        Assert.All(model.Nodes.Where(n => n.OpType == "BatchNormalization"), n => Assert.Equal(1e-5f, n.FloatAttribute("epsilon")));
    }

    [Fact]
    public void ASubsetOfLayersMatchesTheLibTorchExtractorWithTheSameIdentity()
    {
        var options = new FeatureExtractorOptions { Resize = 64, BatchSize = 2 };
        string[] layers = ["layer3", "layer1"];
        using var onnx = BackboneCatalog.Open("resnet50", WeightSource.Random(4), layers, options);
        using var torch = BackboneCatalog.Open("resnet50" + TorchBackbones.LibTorchSuffix, WeightSource.Random(4), layers, options);
        Assert.IsType<OnnxFeatureExtractor>(onnx);
        Assert.IsType<ResNetFeatureExtractor>(torch);
        Assert.Equal(layers, onnx.Layers);
        Assert.Equal(torch.LayerShapes, onnx.LayerShapes);
        Assert.Equal(BackboneReference.Of(torch).ToJson().ToJsonString(), BackboneReference.Of(onnx).ToJson().ToJsonString());
        Assert.Equal(1, OnnxModel.Parse(((OnnxFeatureExtractor)onnx).ExportGraph()).Nodes.Count(n => n.OpType == "MaxPool"));

        // Three images in batches of two: the last run holds one image.
        var images = Enumerable.Range(0, 3).Select(i => NoiseImage(i, 80)).ToList();
        using var scope = NewDisposeScope();
        var expected = torch.Extract(images);
        var actual = onnx.Extract(images);
        for (int l = 0; l < layers.Length; l++)
        {
            double difference = RelativeDifference(actual[l], expected[l]);
            Assert.True(difference < 1e-4, $"{layers[l]}: relative difference {difference:E2}");
        }
    }

    [Fact]
    public void TheOnnxExtractorsTorchTwinHasTheLibTorchExtractorsWeights()
    {
        using var onnx = BackboneCatalog.Open("resnet18", WeightSource.Random(9), ["layer1"]);
        using var torch = BackboneCatalog.Open("resnet18_torch", WeightSource.Random(9), ["layer1"]);
        using var fromOnnx = TrainableResNet.CopyOf(onnx, "test", "to compare");
        using var fromTorch = TrainableResNet.CopyOf(torch, "test", "to compare");
        var (a, b) = (fromOnnx.state_dict(), fromTorch.state_dict());
        Assert.Equal(b.Keys.Order(), a.Keys.Order());
        Assert.All(b.Keys, k => Assert.True(StateFiles.Identical(a[k], b[k]), k));
    }

    /// <summary>PaDiM fitted through libtorch, saved, loaded by the default resolver (ONNX Runtime): the same scores.</summary>
    [Fact]
    public void APadimFittedInLibTorchLoadsAndScoresTheSameThroughOnnxRuntime()
    {
        var weights = WeightSource.Random(5);
        var options = new FeatureExtractorOptions { Resize = 64 };
        var path = Path.Combine(Path.GetTempPath(), $"vigil-onnx-resnet-{Guid.NewGuid():N}.vgl");
        try
        {
            using var fitted = new PadimDetector(BackboneCatalog.Open("resnet18_torch", weights, new PadimOptions().Layers, options), new PadimOptions { Dimensions = 40 });
            fitted.Fit(fixture.Data.Train);
            fitted.Save(path);
            using var loaded = DeployedModel.Load(path, BackboneChoice.Resolver(weights));
            Assert.IsType<OnnxFeatureExtractor>(((PadimDetector)loaded.Detector).Extractor);

            var images = fixture.Data.Test.Select(s => s.LoadImage()).ToList();
            var expected = fitted.Predict(images);
            var actual = loaded.Detector.Predict(images);
            for (int i = 0; i < images.Count; i++)
            {
                Assert.Equal(expected[i].Score, actual[i].Score, tolerance: 1e-3 * Math.Abs(expected[i].Score));
                var (e, a) = (expected[i].Map.Data, actual[i].Map.Data);
                double worst = e.Zip(a, (x, y) => Math.Abs(x - y)).Max() / e.Max(Math.Abs);
                Assert.True(worst < 1e-3, $"image {i}: map differs by {worst:E2} of its maximum");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ImageTensor NoiseImage(int seed, int size)
    {
        var random = new Random(seed);
        var image = new ImageTensor(3, size, size);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (float)random.NextDouble();
        return image;
    }
}
