using Vigil.Cli.Perf;
using Vigil.Components;
using Vigil.Detectors.PatchCore;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class PatchEmbeddingTests
{
    /// <summary>PatchCore fits on images embedded one at a time and predicts the same way; a batch must not change a bit.</summary>
    [Fact]
    public void AnImageEmbeddedAloneGivesTheBitsItGetsInABatch()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(5);
        var layers = new[] { randn(new long[] { 4, 16, 12, 10 }, generator: generator), randn(new long[] { 4, 24, 6, 5 }, generator: generator) };
        var (batch, h, w) = PatchEmbedding.Embed(layers, 3, 100, 60);
        Assert.Equal((12L, 10L), (h, w));
        for (long i = 0; i < 4; i++)
        {
            var (alone, _, _) = PatchEmbedding.Embed(layers.Select(l => l.narrow(0, i, 1)).ToList(), 3, 100, 60);
            Assert.True(alone[0].eq(batch[i]).all().item<bool>(), $"image {i} differs");
        }
    }

    /// <summary>
    /// Against the official unfold → interpolate → adaptive_avg_pool1d pipeline in plain libtorch: outputs pooled from the
    /// first layer alone (on its own grid) keep every bit; those of a resized layer may differ by float rounding only,
    /// as its windows are pooled before the resize.
    /// </summary>
    [Theory]
    [InlineData(3, 100, 60, 6, 5)]  // half-size second layer, as layer3 to layer2
    [InlineData(3, 100, 60, 7, 4)]  // uneven scales
    [InlineData(5, 333, 97, 6, 5)]  // larger neighbourhood, windows of mixed widths straddling the layers
    public void MatchesTheOfficialPipeline(int patch, int pretrain, int target, int secondHeight, int secondWidth)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(8);
        var layers = new[] { randn(new long[] { 2, 16, 12, 10 }, generator: generator), randn(new long[] { 2, 24, secondHeight, secondWidth }, generator: generator) };
        var options = new PatchCoreOptions { PatchSize = patch, PretrainEmbedDimension = pretrain, TargetEmbedDimension = target };
        var expected = ReferencePatchCore.Embed(layers, options);
        var (actual, _, _) = PatchEmbedding.Embed(layers, patch, pretrain, target);
        Assert.Equal(expected.shape, actual.shape);
        float scale = expected.abs().max().item<float>();
        Assert.True((expected - actual).abs().max().item<float>() <= 1e-6f * scale, "differs by more than rounding");
        var (starts, counts) = FeatureMaps.AdaptivePoolWindows(2 * pretrain, target);
        var firstLayerOnly = Enumerable.Range(0, target).Where(t => starts[t] + counts[t] <= pretrain).Select(t => (long)t).ToArray();
        Assert.NotEmpty(firstLayerOnly);
        var columns = tensor(firstLayerOnly);
        Assert.True(expected.index_select(2, columns).eq(actual.index_select(2, columns)).all().item<bool>(), "a first-layer output changed bits");
    }
}
