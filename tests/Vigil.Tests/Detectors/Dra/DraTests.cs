using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Dra;
using Vigil.Registry;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.Dra;

/// <summary>
/// DRA: the heads' targets against train.py's generate_target, the composite and holistic heads against hand-computed
/// cases, and fine-tuning the backbone (the contract: <see cref="SupervisedContractTests"/>).
/// </summary>
public sealed class DraTests : IDisposable
{
    private readonly LabelledTextures _data = new();

    [Fact]
    public void TargetsFollowGenerateTarget()
    {
        // Labels 0 normal, 1 seen anomaly, 2 pseudo anomaly. generate_target: [t == 0, (t != 0)[t != 2], (t != 0)[t != 1], t != 0].
        using var labels = tensor(new[] { 0f, 1f, 2f, 0f, 2f, 1f });
        var targets = DraDetector.Targets(labels);
        Assert.Equal(new[] { 1f, 0f, 0f, 1f, 0f, 0f }, targets[0].data<float>().ToArray());
        Assert.Equal(new[] { 0f, 1f, 0f, 1f }, targets[1].data<float>().ToArray()); // images 0, 1, 3, 5
        Assert.Equal(new[] { 0f, 1f, 0f, 1f }, targets[2].data<float>().ToArray()); // images 0, 2, 3, 4
        Assert.Equal(new[] { 0f, 1f, 1f, 0f, 1f, 1f }, targets[3].data<float>().ToArray());
    }

    [Fact]
    public void HolisticHeadIsTheAbsoluteValueOfItsTwoLayers()
    {
        using var heads = new DraHeads(2, [[2, 2, 2]], 0.5, seed: 3);
        var state = heads.state_dict();
        using (no_grad())
        {
            state["holistic_fc1.weight"].zero_();
            state["holistic_fc1.bias"].zero_();
            state["holistic_fc1.weight"][0, 0] = tensor(1f); // hidden 0 = mean of channel 0
            state["holistic_fc1.weight"][1, 1] = tensor(-1f); // hidden 1 = −mean of channel 1
            state["holistic_fc2.weight"].zero_();
            state["holistic_fc2.weight"][0, 0] = tensor(-2f);
            state["holistic_fc2.weight"][0, 1] = tensor(1f);
            state["holistic_fc2.bias"].fill_(0.5f);
        }
        // Channel 0 mean 3, channel 1 mean −4: hidden ReLU([3, 4]) = [3, 4]; −2·3 + 4 + 0.5 = −1.5; |−1.5| = 1.5.
        using var features = cat([full(1, 1, 2, 2, 3f), full(1, 1, 2, 2, -4f)], 1);
        Assert.Equal(1.5f, heads.Holistic(features).item<float>(), 5);
    }

    [Fact]
    public void CompositeHeadScoresTheResidualAgainstTheReference()
    {
        // One channel, a 2×2 map; the 3×3 convolution keeps only its centre tap (weight 1), BatchNorm in eval mode with
        // running mean 0, variance 1 (identity up to ε), the scoring convolution weight 2, bias −1.
        using var heads = new DraHeads(1, [[1, 2, 2]], 0.5, seed: 3);
        var state = heads.state_dict();
        using (no_grad())
        {
            state["composite_conv.weight"].zero_();
            state["composite_conv.weight"][0, 0, 1, 1] = tensor(1f);
            state["composite_conv.bias"].zero_();
            state["composite_scoring.weight"].fill_(2f);
            state["composite_scoring.bias"].fill_(-1f);
        }
        heads.eval();
        // Reference [1, 5, 2, 0] − features [3, 1, 2, 4] = [−2, 4, 0, −4]; ReLU → [0, 4, 0, 0]; 2x − 1 → [−1, 7, −1, −1];
        // top ⌊4 × 0.5⌋ = 2 of |scores| [1, 7, 1, 1]: mean (7 + 1) / 2 = 4.
        using var reference = tensor(new[] { 1f, 5f, 2f, 0f }, [1, 2, 2]);
        using var features = tensor(new[] { 3f, 1f, 2f, 4f }, [1, 1, 2, 2]);
        Assert.Equal(4f, heads.Composite(features, reference).item<float>(), 3);
    }

    [Fact]
    public void FineTuningTrainsTheBackboneAndSavesItWithTheReference()
    {
        var model = DetectorRegistry.Parse("dra:epochs=1,steps=2,batch=6,augment=none");
        using var fitted = model.CreateTrainer().Fit(_data.Supervised, new TrainingContext(2, LabelledTextures.Backbone));
        using var frozen = DetectorRegistry.Parse("dra:finetune=false,epochs=1,steps=2,batch=6,augment=none").CreateTrainer()
            .Fit(_data.Supervised, new TrainingContext(2, LabelledTextures.Backbone));
        Assert.True(fitted.StateBytes > 5 * frozen.StateBytes, $"fine-tuned state {fitted.StateBytes} B holds the backbone, frozen {frozen.StateBytes} B the heads");
        var path = Path.Combine(Path.GetTempPath(), $"vigil-dra-{Guid.NewGuid():N}.vgl");
        try
        {
            fitted.Save(path);
            using var loaded = DetectorTesting.Load(path, reference => LabelledTextures.Backbone.Open(reference.Layers));
            var image = _data.Test[^1].LoadImage();
            var expected = fitted.Predict(image).Score;
            Assert.Equal(expected, loaded.Predict(image).Score, 1e-5f * Math.Max(1f, Math.Abs(expected)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public void Dispose() => _data.Dispose();
}
