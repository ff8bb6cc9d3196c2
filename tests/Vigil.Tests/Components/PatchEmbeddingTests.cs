using Vigil.Components;
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
}
