using Vigil.Detectors.Draem;
using Vigil.Randomness;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.Draem;

public class DraemTests
{
    [Fact]
    public void SsimOfAnImageWithItselfIsOne()
    {
        using var x = rand(2, 3, 20, 24, generator: new Generator(1));
        Assert.Equal(1.0, DraemLoss.Ssim(x, x).item<float>(), 5);
    }

    /// <summary>loss.py's ssim written out pixel by pixel: zero-padded 11 × 11 Gaussian windows (σ 1.5), L = 1.</summary>
    [Fact]
    public void SsimMatchesTheFormulaComputedPixelByPixel()
    {
        const int channels = 2, height = 13, width = 9, window = 11;
        using var generator = new Generator(2);
        using var a = rand(1, channels, height, width, generator: generator);
        using var b = (a * 0.6 + rand(1, channels, height, width, generator: generator) * 0.4).contiguous();
        float[] x = a.data<float>().ToArray(), y = b.data<float>().ToArray();
        var g = Enumerable.Range(0, window).Select(i => Math.Exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5))).ToArray();
        double norm = g.Sum();
        double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03, total = 0;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < height; i++)
                for (int j = 0; j < width; j++)
                {
                    double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                    for (int di = -5; di <= 5; di++)
                        for (int dj = -5; dj <= 5; dj++)
                        {
                            int r = i + di, s = j + dj;
                            if (r < 0 || r >= height || s < 0 || s >= width) continue;
                            double w = g[di + 5] * g[dj + 5] / (norm * norm);
                            double u = x[(c * height + r) * width + s], v = y[(c * height + r) * width + s];
                            (mx, my, xx, yy, xy) = (mx + w * u, my + w * v, xx + w * u * u, yy + w * v * v, xy + w * u * v);
                        }
                    double sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
                    total += (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sx + sy + c2));
                }
        Assert.Equal(total / (channels * height * width), DraemLoss.Ssim(a, b).item<float>(), 5);
    }

    /// <summary>Images in 0 … 255 get L = 255, so SSIM is the same as for the images scaled to 0 … 1 (c₁, c₂ scale with L²).</summary>
    [Fact]
    public void SsimReadsTheValueRangeOffTheFirstImage()
    {
        using var generator = new Generator(3);
        using var a = rand(1, 3, 16, 16, generator: generator);
        using var b = rand(1, 3, 16, 16, generator: generator);
        Assert.Equal(DraemLoss.Ssim(a, b).item<float>(), DraemLoss.Ssim(a * 255, b * 255).item<float>(), 4);
    }

    /// <summary>
    /// Two pixels, p = (0.8, 0.2) of class 0 and p = (0.3, 0.7) of class 1. Without smoothing, γ = 2:
    /// (0.2² · −ln 0.8 + 0.3² · −ln 0.7) / 2 = (0.04 · 0.22314355 + 0.09 · 0.35667494) / 2 = 0.02051324; γ = 0 is the
    /// cross-entropy (0.22314355 + 0.35667494) / 2 = 0.28990925.
    /// </summary>
    [Theory]
    [InlineData(2.0, 0.0, 0.02051324)]
    [InlineData(0.0, 0.0, 0.28990925)]
    // smooth 1e-5: one-hot (1 − s, s) and (s, 1 − s); p_t = 0.8(1 − s) + 0.2 s + s = 0.800004 and 0.7(1 − s) + 0.3 s + s = 0.700006.
    [InlineData(2.0, 1e-5, 0.02051194)]
    public void FocalLossMatchesTheHandComputedValue(double gamma, double smooth, double expected)
    {
        using var probabilities = tensor(new float[] { 0.8f, 0.3f, 0.2f, 0.7f }, [1, 2, 1, 2]);
        using var target = tensor(new float[] { 0, 1 }, [1, 1, 1, 2]);
        Assert.Equal(expected, DraemLoss.Focal(probabilities, target, gamma, smooth).item<float>(), 6);
    }

    [Fact]
    public void SimulatedAnomaliesAreSeededAndChangeTheImageOnlyInsideTheirMask()
    {
        var options = new DraemOptions { Size = 64, AnomalyProbability = 1, RotateProbability = 0 };
        var anomalies = new DraemAnomalies(options, DraemAnomalySource.Open(DraemOptions.SyntheticSource));
        var image = Enumerable.Range(0, 3 * 64 * 64).Select(i => (i % 97) / 97f).ToArray();
        int withAnomaly = 0;
        for (ulong seed = 0; seed < 6; seed++)
        {
            var sample = anomalies.Synthesize(image, seed);
            var again = anomalies.Synthesize(image, seed);
            Assert.Equal(sample.Input, again.Input);
            Assert.Equal(sample.Mask, again.Mask);
            Assert.Equal(image, sample.Target);
            Assert.All(sample.Mask, m => Assert.True(m is 0 or 1));
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 64 * 64; p++)
                    if (sample.Mask[p] == 0) Assert.Equal(image[c * 64 * 64 + p], sample.Input[c * 64 * 64 + p]);
            if (sample.Mask.Any(m => m == 1)) withAnomaly++;
        }
        Assert.True(withAnomaly > 0, "some of the seeds should give a non-empty anomaly region");
        Assert.NotEqual(anomalies.Synthesize(image, 1).Input, anomalies.Synthesize(image, 2).Input);
    }

    [Fact]
    public void WithoutAnomaliesTheInputIsTheTargetAndTheMaskEmpty()
    {
        var anomalies = new DraemAnomalies(new DraemOptions { Size = 32, AnomalyProbability = 0, RotateProbability = 0 }, DraemAnomalySource.Open(DraemOptions.SyntheticSource));
        var image = Enumerable.Range(0, 3 * 32 * 32).Select(i => (i % 13) / 13f).ToArray();
        var sample = anomalies.Synthesize(image, 5);
        Assert.Equal(image, sample.Input);
        Assert.All(sample.Mask, m => Assert.Equal(0f, m));
    }

    [Fact]
    public void ChoosesDistinctAugmenters()
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var chosen = DraemAnomalies.Choose(10, 3, new SeededRandom(seed));
            Assert.Equal(3, chosen.Distinct().Count());
            Assert.All(chosen, i => Assert.InRange(i, 0, 9));
        }
    }

    [Fact]
    public void AnEmptyOrMissingSourceFolderIsAClearError()
    {
        var folder = Directory.CreateTempSubdirectory("vigil-draem-source-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image");
            var empty = Assert.Throws<VigilInputException>(() => DraemAnomalySource.Open(folder));
            Assert.Contains("holds no images", empty.Message);
            var missing = Assert.Throws<VigilInputException>(() => DraemAnomalySource.Open(Path.Combine(folder, "absent")));
            Assert.Contains("does not exist", missing.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>PIL's ImageOps.equalize on a hand-made histogram: values 0, 1, 2 with 300, 300, 165 pixels.</summary>
    [Fact]
    public void EqualizeFollowsPilOnAHandComputedHistogram()
    {
        // step = (765 − 165) / 255 = 2 (integer); n starts at 1: lut[0] = 1 / 2 = 0, lut[1] = (1 + 300) / 2 = 150, lut[2] = 601 / 2 = 300 → 255.
        var pixels = Enumerable.Repeat((byte)0, 300 * 3).Concat(Enumerable.Repeat((byte)1, 300 * 3)).Concat(Enumerable.Repeat((byte)2, 165 * 3)).ToArray();
        DraemAugmenters.Equalize(pixels);
        Assert.Equal([0, 150, 255], pixels.Distinct().Order().Select(v => (int)v));
    }

    [Fact]
    public void PosterizeAndSolarizeFollowImgaug()
    {
        byte[] pixels = [0, 37, 127, 128, 200, 255];
        var posterized = (byte[])pixels.Clone();
        DraemAugmenters.Posterize(posterized, 2); // keeps the two highest bits: v & 0b1100_0000
        Assert.Equal(new byte[] { 0, 0, 64, 128, 192, 192 }, posterized);
        var solarized = (byte[])pixels.Clone();
        DraemAugmenters.Solarize(solarized, 128); // v ≥ 128 inverted
        Assert.Equal(new byte[] { 0, 37, 127, 127, 55, 0 }, solarized);
    }
}
