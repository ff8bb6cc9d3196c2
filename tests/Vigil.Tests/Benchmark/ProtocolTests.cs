using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Registry;
using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Tests.Benchmark;

/// <summary>
/// The reference protocol: each model gets its reference code's input (torchvision's short side 256, centre crop 224,
/// its filter and mask rule) and pixel metrics are computed in that view, as the reference code computes them.
/// </summary>
public class ProtocolTests(ProtocolTests.Data data) : IClassFixture<ProtocolTests.Data>
{
    public sealed class Data : IDisposable
    {
        public TinySynthetic Tiny { get; } = new(trainCount: 8, testGoodCount: 3, perDefectCount: 1);
        public void Dispose() => Tiny.Dispose();
    }

    [Fact]
    public void ReferenceProtocolEvaluatesPadimInTheCroppedViewWithNearestMasks()
    {
        var model = DetectorRegistry.Parse("padim");
        var backbone = InputProtocol.Reference.BackboneFor(model, new BackboneChoice("resnet18_imagenet", WeightSource.Pretrained));
        Assert.Equal("short side 256, crop 224x224, antialiasedlanczos, masks centrednearest", backbone.InputDescription);
        var split = data.Tiny.Load();
        var spec = TestSpecs.Cell("padim", backbone: backbone.Name, weights: backbone.WeightsSha256) with
        {
            Input = backbone.InputDescription,
            Evaluation = InputProtocol.Reference.EvaluationFor(model, new EvaluationOptions()),
        };
        Assert.Equal(EvaluationResolution.View, spec.Evaluation.Resolution);
        var cell = CellRunner.Run(spec, model, backbone, split, artifacts: false).Result;

        // Independently: the same fit, each test image's 224×224 view map, and its mask resized (short side 256, PIL's
        // centred nearest) and centre-cropped as PaDiM's reference code does it.
        using var detector = model.CreateTrainer().Fit(new TrainingData(split.Train), new TrainingContext(0, backbone));
        var reference = Preprocessing.ShortSide(256, 224, ResizeFilter.AntialiasedLanczos, MaskResize.CentredNearest);
        var predictions = split.Test.Select(s => s.Load()).Select(l => (Prediction: detector.Predict(l.Image), Mask: reference.ApplyToMask(l.Mask))).ToList();
        Assert.All(predictions, p => Assert.Equal((224, 224), (p.Prediction.View!.Height, p.Prediction.View.Width)));
        var expected = Evaluation.Run(predictions.Select(p => p.Prediction.Score).ToArray(), split.Test.Select(s => s.IsAnomalous).ToArray(),
            predictions.Select(p => p.Prediction.View!).ToArray(), predictions.Select(p => p.Mask).ToArray());
        Assert.Equal((expected.ImageAuroc, expected.PixelAuroc, expected.AuPro), (cell.Metrics.ImageAuroc, cell.Metrics.PixelAuroc, cell.Metrics.AuPro));
        Assert.Equal(EvaluationResolution.View, cell.Metrics.Resolution);
        Assert.True(cell.Metrics.PixelAuroc > 0.8, $"pixel AUROC {cell.Metrics.PixelAuroc}");
    }

    [Fact]
    public void TheBackboneProtocolLeavesEveryModelOnTheBackbonesInput()
    {
        var model = DetectorRegistry.Parse("patchcore");
        var backbone = new BackboneChoice("resnet18_imagenet", WeightSource.Pretrained);
        Assert.Same(backbone, InputProtocol.Backbone.BackboneFor(model, backbone));
        Assert.Equal(EvaluationResolution.GroundTruth, InputProtocol.Backbone.EvaluationFor(model, new EvaluationOptions()).Resolution);
        // PatchCore's reference resizes its masks like images and keeps only fully defective pixels.
        Assert.Equal("short side 256, crop 224x224, antialiasedbilinear, masks filteredfullydefective",
            InputProtocol.Reference.BackboneFor(model, backbone).InputDescription);
    }
}
