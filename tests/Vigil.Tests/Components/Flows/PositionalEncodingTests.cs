using Vigil.Components.Flows;

namespace Vigil.Tests.Components.Flows;

public class PositionalEncodingTests
{
    /// <summary>D = 8 (D' = 4, frequencies 1 and 10⁻²) on a 2 × 3 grid, from the formula by hand.</summary>
    [Fact]
    public void EncodesColumnsInTheFirstHalfAndRowsInTheSecond()
    {
        var p = PositionalEncoding.TwoDimensional(8, 2, 3);
        Assert.Equal([8, 2, 3], p.shape);
        double[] frequencies = [1, Math.Exp(-2 * Math.Log(1e4) / 4)];
        Assert.Equal(0.01, frequencies[1], 12);
        for (int h = 0; h < 2; h++)
            for (int w = 0; w < 3; w++)
                for (int k = 0; k < 2; k++)
                {
                    Assert.Equal(Math.Sin(w * frequencies[k]), p[2 * k, h, w].item<float>(), 6);
                    Assert.Equal(Math.Cos(w * frequencies[k]), p[2 * k + 1, h, w].item<float>(), 6);
                    Assert.Equal(Math.Sin(h * frequencies[k]), p[4 + 2 * k, h, w].item<float>(), 6);
                    Assert.Equal(Math.Cos(h * frequencies[k]), p[4 + 2 * k + 1, h, w].item<float>(), 6);
                }
    }

    [Theory]
    [InlineData(6)]
    [InlineData(0)]
    public void NeedsAMultipleOfFourChannels(int channels) =>
        Assert.Contains("multiple of 4", Assert.Throws<VigilInputException>(() => PositionalEncoding.TwoDimensional(channels, 2, 2)).Message);
}
