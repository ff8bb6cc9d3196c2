using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Components;
using Vigil.Deployment;
using Vigil.Export;
using Vigil.Imaging;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.UseCases;
using Vigil.Weights;
using Xunit;
using Xunit.Abstractions;

namespace Vigil.Tests.Export;

/// <summary>Models trained once on a tiny synthetic category (backbones at 64×64), for the export tests.</summary>
public sealed class ExportedModels : IDisposable
{
    public TinySynthetic Data { get; } = new(trainCount: 16, testGoodCount: 3, perDefectCount: 1);
    private readonly Dictionary<string, string> _files = new();

    /// <summary>The ImageNet networks' own weights; random ones for a torchvision ResNet, whose ImageNet weights are not on this machine.</summary>
    public static WeightSource WeightsFor(string backbone) => backbone == TorchvisionResNet18 ? WeightSource.Random(5) : WeightSource.Pretrained;

    /// <summary>torchvision's ResNet18 run by libtorch: the exporter writes its graph from the weights.</summary>
    public const string TorchvisionResNet18 = "resnet18";

    public string Trained(string model, string backbone = ResNet18ImageNet.Name)
    {
        lock (_files)
        {
            if (_files.TryGetValue($"{model} {backbone}", out var path)) return path;
            path = Path.Combine(Data.Scratch("trained"), $"{Guid.NewGuid():N}.vgl");
            TrainModel.Run(new TrainRequest
            {
                Model = DetectorRegistry.Parse(model),
                Backbone = new BackboneChoice(backbone, WeightsFor(backbone), new FeatureExtractorOptions { Resize = 64 }),
                Dataset = $"synthetic:{Data.Root}", Category = TinySynthetic.Category,
                OutputPath = path, Calibration = new CalibrationRequest(ValidationRatio: 0.3),
            }, SilentDisplay.Instance);
            return _files[$"{model} {backbone}"] = path;
        }
    }

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// Every exportable model, exported and run in ONNX Runtime on test images at the network size and at other sizes
/// (so the graph's own resizing runs), against Vigil's Predict on the same decoded pixels: anomaly maps within 1e-4
/// of the map's largest value, image scores within 1e-4 relative, identical labels.
/// </summary>
public sealed class OnnxExportTests(ExportedModels models, ITestOutputHelper output) : IClassFixture<ExportedModels>
{
    /// <summary>
    /// Both detectors on the float ResNet18, SoftPatch's bank weights, the int8 MobileNetV2 (QOperator nodes and a
    /// com.microsoft domain merged into the graph; its file comes from shared/weights), and a torchvision ResNet18 run by
    /// libtorch (random weights), whose graph the exporter writes itself.
    /// </summary>
    public static TheoryData<string, string> Exportable => new()
    {
        { "patchcore", ResNet18ImageNet.Name },
        { "padim:dims=20", ResNet18ImageNet.Name },
        { "patchcore-softpatch", ResNet18ImageNet.Name },
        { "padim:dims=20", MobileNetV2Int8.Name },
        { "patchcore", ExportedModels.TorchvisionResNet18 },
    };

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Exported_graph_scores_as_vigil_predict(string model, string backbone)
    {
        if (backbone == MobileNetV2Int8.Name) SharedData.RequireDirectory("weights");
        var file = models.Trained(model, backbone);
        var onnxPath = Path.Combine(models.Data.Scratch("onnx"), $"{Guid.NewGuid():N}.onnx");
        var weights = ExportedModels.WeightsFor(backbone);
        var outcome = ExportModel.Run(new ExportRequest { ModelFile = file, OutputPath = onnxPath, Weights = weights });
        Assert.True(outcome.Calibrated);
        using var deployed = DeployedModel.Load(file, BackboneChoice.Resolver(weights));
        var calibration = deployed.Calibration!;
        using var session = new InferenceSession(onnxPath);

        double worstMap = 0, worstScore = 0;
        int images = 0;
        foreach (var image in TestImages())
        {
            var (prediction, decision) = deployed.Predict(image);
            var result = Run(session, image);
            var map = result[OnnxExport.MapOutput].Select(v => (float)v).ToArray();
            Assert.Equal(prediction.Map.Data.Length, map.Length);
            float scale = prediction.Map.Data.Max(Math.Abs);
            double mapError = prediction.Map.Data.Zip(map, (a, b) => (double)Math.Abs(a - b)).Max() / scale;
            double scoreError = Math.Abs(result[OnnxExport.ScoreOutput][0] - prediction.Score) / Math.Abs(prediction.Score);
            Assert.True(mapError <= 1e-4, $"{model}, {image.Height}x{image.Width}: map differs by {mapError:E2} of its largest value");
            Assert.True(scoreError <= 1e-4, $"{model}, {image.Height}x{image.Width}: score {result[OnnxExport.ScoreOutput][0]} vs Vigil's {prediction.Score}");
            Assert.Equal(decision!.IsAnomalous, result[OnnxExport.AnomalousOutput][0] == 1);
            // Within 1e-4, what agreeing to 4 decimals allows, without failing two values 3e-5 apart that round differently.
            Assert.Equal(decision.NormalisedScore, result[OnnxExport.NormalisedScoreOutput][0], 1e-4);
            // Pixel labels agree except where the two maps straddle the threshold within their difference.
            var mask = result[OnnxExport.DefectMaskOutput];
            for (int i = 0; i < map.Length; i++)
                if (Math.Abs(prediction.Map.Data[i] - calibration.PixelThreshold) > 1e-4 * scale)
                    Assert.Equal(prediction.Map.Data[i] >= calibration.PixelThreshold, mask[i] == 1);
            (worstMap, worstScore, images) = (Math.Max(worstMap, mapError), Math.Max(worstScore, scoreError), images + 1);
        }
        output.WriteLine($"{model} on {backbone}: {images} images, largest map difference {worstMap:E2} of the map's maximum, largest score difference {worstScore:E2} relative");
    }

    [Fact]
    public void Blur_matrix_equals_the_separable_blur()
    {
        var random = new Random(3);
        int h = 21, w = 13;
        var map = Enumerable.Range(0, h * w).Select(_ => (float)random.NextDouble()).ToArray();
        var expected = GaussianBlur.Apply(map, h, w, 2.5);
        float[] rows = OnnxExport.BlurMatrix(h, 2.5), columns = OnnxExport.BlurMatrix(w, 2.5);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double sum = 0;
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++) sum += rows[y * h + i] * map[i * w + j] * columns[x * w + j];
                Assert.Equal(expected[y * w + x], sum, 5);
            }
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(7, 7)]
    [InlineData(3, 8)]
    public void Pooling_matrix_equals_adaptive_average_pooling(int input, int output)
    {
        var values = Enumerable.Range(0, input).Select(i => (float)Math.Sin(i + 1)).ToArray();
        using var pooled = FeatureMaps.AdaptiveAveragePool(torch.tensor(values).reshape(1, input), output);
        var expected = pooled.data<float>().ToArray();
        var matrix = DetectorHeads.PoolingMatrix(input, output);
        for (int o = 0; o < output; o++)
            Assert.Equal(expected[o], Enumerable.Range(0, input).Sum(i => matrix[o * input + i] * values[i]), 5);
    }

    [Fact]
    public void Exporting_an_unsupported_model_names_the_supported_ones()
    {
        var file = models.Trained("spade");
        var target = Path.Combine(models.Data.Scratch("onnx"), "spade.onnx");
        var error = Assert.Throws<VigilInputException>(() => ExportModel.Run(new ExportRequest { ModelFile = file, OutputPath = target }));
        Assert.Contains("spade", error.Message);
        Assert.Contains("patchcore and padim", error.Message);
        Assert.False(File.Exists(target));
    }

    /// <summary>Test images as decoded 8-bit RGB: at the network size (64×64), larger (96×80) and smaller (40×48).</summary>
    private IEnumerable<ImageTensor> TestImages()
    {
        var folder = models.Data.Scratch($"sizes-{Guid.NewGuid():N}");
        foreach (var (sample, i) in models.Data.Load().Test.Take(4).Select((s, i) => (s, i)))
        {
            var image = ImageIO.ReadRgb(sample.SourcePath);
            yield return image;
            foreach (var (h, w) in new[] { (96, 80), (40, 48) })
            {
                // Written as 8-bit PNG and decoded again, so Vigil sees exactly the pixels the graph gets.
                var path = Path.Combine(folder, $"{i}-{h}x{w}.png");
                ImageIO.Write(ImageOps.Resize(image, h, w), path);
                yield return ImageIO.ReadRgb(path);
            }
        }
    }

    /// <summary>Runs the graph on an image given as uint8 [1, H, W, 3] RGB; outputs as floats (booleans as 0/1).</summary>
    private static Dictionary<string, float[]> Run(InferenceSession session, ImageTensor image)
    {
        int h = image.Height, w = image.Width, plane = h * w;
        var pixels = new DenseTensor<byte>([1, h, w, 3]);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) pixels[0, y, x, c] = (byte)Math.Round(image.Data[c * plane + y * w + x] * 255);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.Input, pixels)]);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            Tensor<float> f => f.ToArray(),
            Tensor<bool> b => b.Select(v => v ? 1f : 0f).ToArray(),
            var other => throw new InvalidOperationException($"unexpected output {other}"),
        });
    }
}
