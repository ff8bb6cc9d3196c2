using Vigil.Data.Synthetic;
using Vigil.Randomness;

namespace Vigil.Tests.Data.Synthetic;

public class PerlinNoiseTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(0.5, 0.5)]
    [InlineData(0.25, 0.103515625)] // 6/4⁵ − 15/4⁴ + 10/4³ = 0.005859375 − 0.05859375 + 0.15625
    [InlineData(0.75, 0.896484375)] // symmetric: 1 − fade(0.25)
    public void FadeIsTheQuinticAtKnownPoints(double t, double expected) => Assert.Equal(expected, PerlinNoise.Fade(t), 12);

    [Fact]
    public void TheSameSeedGivesTheSameNoiseAndAnotherSeedOtherNoise()
    {
        var a = PerlinNoise.Sample(64, 64, 4, 8, new SeededRandom(7));
        var b = PerlinNoise.Sample(64, 64, 4, 8, new SeededRandom(7));
        var c = PerlinNoise.Sample(64, 64, 4, 8, new SeededRandom(8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 16)]
    [InlineData(32, 32)]
    public void ValuesLieInMinusOneToOneAndVanishOnTheLattice(int resY, int resX)
    {
        const int size = 64;
        for (ulong seed = 0; seed < 5; seed++)
        {
            var noise = PerlinNoise.Sample(size, size, resY, resX, new SeededRandom(seed));
            Assert.All(noise, v => Assert.InRange(v, -1f, 1f));
            for (int y = 0; y < size; y += size / resY)
                for (int x = 0; x < size; x += size / resX) Assert.Equal(0f, noise[y * size + x], 6);
            Assert.True(noise.Max() - noise.Min() > 0.3f, "the noise should vary");
        }
    }

    /// <summary>
    /// All gradients along the rows (angle 0): every corner's dot product is the row offset (fy or fy − 1), so the
    /// noise is √2 (fy − fade(fy)) whatever the column; along the columns (angle π/2) likewise with fx.
    /// </summary>
    [Fact]
    public void UniformGradientsGiveTheHandComputedRamp()
    {
        const int height = 8, width = 12;
        var alongRows = PerlinNoise.FromAngles(height, width, 2, 3, Enumerable.Repeat(0.0, 3 * 4).ToArray());
        var alongColumns = PerlinNoise.FromAngles(height, width, 2, 3, Enumerable.Repeat(Math.PI / 2, 3 * 4).ToArray());
        // Row 1 lies at lattice row 1 · 2 / 8 = 0.25; column 2 at lattice column 2 · 3 / 12 = 0.5.
        double atQuarter = Math.Sqrt(2) * (0.25 - 0.103515625);
        for (int x = 0; x < width; x++) Assert.Equal(atQuarter, alongRows[1 * width + x], 6);
        for (int y = 0; y < height; y++) Assert.Equal(0, alongColumns[y * width + 2], 6); // fx = ½: ½ − fade(½) = 0
        for (int y = 0; y < height; y++) Assert.Equal(Math.Sqrt(2) * (0.25 - 0.103515625), alongColumns[y * width + 1], 6); // fx = 0.25
    }
}
