using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Tests.Imaging;

/// <summary>torchvision's ColorJitter adjustments against hand-computed pixels, and its draw.</summary>
public sealed class ColorJitterTests
{
    private static ImageTensor Pixels(params (float R, float G, float B)[] pixels) =>
        new(3, 1, pixels.Length, [.. pixels.Select(p => p.R), .. pixels.Select(p => p.G), .. pixels.Select(p => p.B)]);

    private static (float R, float G, float B) Pixel(ImageTensor image, int x) => (image[0, 0, x], image[1, 0, x], image[2, 0, x]);

    [Fact]
    public void HueShiftTurnsTheColourWheel()
    {
        // Red turned by a third is green. (0.8, 0.4, 0.2): v 0.8, s 0.75, h (0.4 − 0.2)/0.6/6 = 1/18; turned by 1/18 to
        // 1/9 = sector 2/3 of the red–yellow sixth: (v, v(1 − s(1 − 2/3)), v(1 − s)) = (0.8, 0.6, 0.2). Grey stays grey.
        var image = Pixels((1, 0, 0), (0.8f, 0.4f, 0.2f), (0.5f, 0.5f, 0.5f));
        var third = new ColorJitter(1, 1, 1, 1 / 3.0, [3]).Apply(image);
        Assert.Equal((0f, 1f, 0f), Pixel(third, 0));
        var shifted = new ColorJitter(1, 1, 1, 1 / 18.0, [3]).Apply(image);
        var (r, g, b) = Pixel(shifted, 1);
        Assert.Equal(0.8f, r, 5);
        Assert.Equal(0.6f, g, 5);
        Assert.Equal(0.2f, b, 5);
        Assert.Equal((0.5f, 0.5f, 0.5f), Pixel(shifted, 2));
    }

    [Fact]
    public void BrightnessContrastAndSaturationBlendAsTorchvision()
    {
        // Luma of (0.2, 0.4, 0.6) = 0.299·0.2 + 0.587·0.4 + 0.114·0.6 = 0.363; of (0.6, 0.6, 0.6) = 0.6: mean 0.4815.
        var image = Pixels((0.2f, 0.4f, 0.6f), (0.6f, 0.6f, 0.6f));
        var contrast = new ColorJitter(1, 0.5, 1, 0, [1]).Apply(image);
        Assert.Equal(0.5f * 0.2f + 0.5f * 0.4815f, contrast[0, 0, 0], 5);
        Assert.Equal(0.5f * 0.6f + 0.5f * 0.4815f, contrast[2, 0, 1], 5);
        var grey = new ColorJitter(1, 1, 0, 0, [2]).Apply(image);
        Assert.Equal(0.363f, grey[0, 0, 0], 5);
        Assert.Equal(0.363f, grey[2, 0, 0], 5);
        var bright = new ColorJitter(2, 1, 1, 0, [0]).Apply(image);
        Assert.Equal((0.4f, 0.8f, 1f), Pixel(bright, 0)); // 1.2 clamped to 1
    }

    [Fact]
    public void TheOrderOfTheAdjustmentsMatters()
    {
        // Brightness ×2 then contrast 0: every value becomes the mean luma of the clamped (0.4, 0.8, 1) and (1, 1, 1):
        // (0.299·0.4 + 0.587·0.8 + 0.114 + 1) / 2 = 0.8516. Contrast 0 first gives 0.4815, doubled 0.963.
        var image = Pixels((0.2f, 0.4f, 0.6f), (0.6f, 0.6f, 0.6f));
        Assert.Equal(0.8516f, new ColorJitter(2, 0, 1, 0, [0, 1]).Apply(image)[1, 0, 0], 5);
        Assert.Equal(0.963f, new ColorJitter(2, 0, 1, 0, [1, 0]).Apply(image)[1, 0, 0], 5);
    }

    [Fact]
    public void DrawStaysInTorchvisionsRangesAndIsSeeded()
    {
        for (ulong seed = 0; seed < 50; seed++)
        {
            var jitter = ColorJitter.Draw(new SeededRandom(seed), 0.1);
            Assert.InRange(jitter.Brightness, 0.9, 1.1);
            Assert.InRange(jitter.Contrast, 0.9, 1.1);
            Assert.InRange(jitter.Saturation, 0.9, 1.1);
            Assert.InRange(jitter.Hue, -0.1, 0.1);
            Assert.Equal([0, 1, 2, 3], jitter.Order.Order());
            var again = ColorJitter.Draw(new SeededRandom(seed), 0.1);
            Assert.Equal((jitter.Brightness, jitter.Contrast, jitter.Saturation, jitter.Hue), (again.Brightness, again.Contrast, again.Saturation, again.Hue));
            Assert.Equal(jitter.Order, again.Order);
        }
    }
}
