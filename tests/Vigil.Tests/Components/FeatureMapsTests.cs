using Vigil.Components;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class FeatureMapsTests
{
    [Theory]
    [InlineData(288, 1024)]  // upsampling: windows of one or two inputs
    [InlineData(864, 1024)]
    [InlineData(2048, 1024)] // exact halving
    [InlineData(1000, 7)]    // wide, uneven windows
    [InlineData(5, 5)]
    public void AdaptiveAveragePoolMatchesTorch(int inputLength, int length)
    {
        using var scope = NewDisposeScope();
        var rows = randn(new long[] { 13, 1, inputLength }, generator: new TorchSharp.torch.Generator(3));
        var expected = F.adaptive_avg_pool1d(rows, length);
        var actual = FeatureMaps.AdaptiveAveragePool(rows, length);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-6), $"max difference {(actual - expected).abs().max().item<float>()}");
    }
}
