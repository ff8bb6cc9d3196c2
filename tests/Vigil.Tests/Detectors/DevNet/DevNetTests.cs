using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.DevNet;
using Vigil.Registry;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.DevNet;

/// <summary>
/// DevNet: its deviation loss and top-k image score against hand-computed cases, and fine-tuning the backbone on
/// synthetic textures with a few labelled anomalies (the rest of the contract: <see cref="SupervisedContractTests"/>).
/// </summary>
public sealed class DevNetTests : IDisposable
{
    private readonly LabelledTextures _data = new();

    private IReadOnlyList<Sample> Test => _data.Test;
    private TrainingData Supervised => _data.Supervised;
    private static IBackboneProvider Backbone => LabelledTextures.Backbone;

    [Fact]
    public void DeviationLossMatchesAHandComputedCase()
    {
        // Prior [-1, 1, 3]: mean 1, sample standard deviation √((4 + 0 + 4) / 2) = 2. Scores [1, 4, 11, 3] deviate by
        // [0, 1.5, 5, 1]; the normal two cost |dev| = 0 and 1.5, the anomalous two max(0, 5 − dev) = 0 and 4: mean 5.5 / 4.
        using var loss = DevNetDetector.DeviationLoss(tensor(new[] { 1f, 4f, 11f, 3f }), tensor(new[] { 0f, 0f, 1f, 1f }), tensor(new[] { -1f, 1f, 3f }), margin: 5);
        Assert.Equal(1.375f, loss.item<float>(), 6);
    }

    [Fact]
    public void ImageScoreIsTheMeanOfTheTopTenPercentAbsoluteScores()
    {
        // 20 positions: ⌊20 × 0.1⌋ = 2 largest |scores| are |−9| and 7: mean 8. topk = 0: the plain mean (−9 + 7 + 18 × 1) / 20 = 0.8.
        var values = Enumerable.Repeat(1f, 20).ToArray();
        (values[3], values[17]) = (-9f, 7f);
        using var map = tensor(values, [1, 4, 5]);
        Assert.Equal(8f, DevNetDetector.ImageScores(map, 0.1).item<float>(), 6);
        Assert.Equal(0.8f, DevNetDetector.ImageScores(map, 0).item<float>(), 5);
        // Fewer than ten positions still keep one: the largest |score|.
        using var small = tensor(new[] { 0.5f, -2f, 1f }, [1, 1, 3]);
        Assert.Equal(2f, DevNetDetector.ImageScores(small, 0.1).item<float>(), 6);
    }

    [Fact]
    public void FineTuningTrainsTheBackboneAndSavesIt()
    {
        var model = DetectorRegistry.Parse("devnet:epochs=2,steps=2,batch=4,augment=none");
        using var fitted = model.CreateTrainer().Fit(Supervised, new TrainingContext(2, Backbone));
        using var frozen = DetectorRegistry.Parse("devnet:finetune=false,epochs=2,steps=2,batch=4,augment=none").CreateTrainer()
            .Fit(Supervised, new TrainingContext(2, Backbone));
        Assert.True(fitted.StateBytes > 100 * frozen.StateBytes, $"fine-tuned state {fitted.StateBytes} B holds the backbone, frozen {frozen.StateBytes} B the head");
        var path = Path.Combine(Path.GetTempPath(), $"vigil-devnet-{Guid.NewGuid():N}.vgl");
        try
        {
            fitted.Save(path);
            using var loaded = DetectorTesting.Load(path, reference => Backbone.Open(reference.Layers));
            var image = Test[^1].LoadImage();
            var expected = fitted.Predict(image).Score;
            Assert.Equal(expected, loaded.Predict(image).Score, 1e-5f * Math.Max(1f, Math.Abs(expected)));
            // The backbone moved away from the pretrained weights it started from.
            var tuned = ((DevNetDetector)fitted).Trained.Single(m => m.Name == "backbone").Module.state_dict()["layer4.0.conv1.weight"];
            using var pretrained = ResNet18ImageNet.LoadNetwork(ResNet18ImageNet.DefaultPath());
            Assert.False(tuned.allclose(pretrained.state_dict()["layer4.0.conv1.weight"]), "the fine-tuned layer4 equals the pretrained one");
        }
        finally
        {
            File.Delete(path);
        }
    }

    public void Dispose() => _data.Dispose();
}
