using Vigil.Detectors.Igd;
using Vigil.Detectors.Trained;
using Vigil.Registry;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.Igd;

/// <summary>
/// IGD's pieces against hand-computed cases: the Gaussian descriptor (init_c's centre with its ±eps push, init_sigma's
/// per-batch width, the score 1 − exp(−‖z − c‖² / σ)), the critic loss with the official broadcast, and MS-SSIM on
/// constant images, where every level's formula reduces to numbers.
/// </summary>
public class IgdTests
{
    [Fact]
    public void TheCentreIsTheMeanCodeWithSmallCoordinatesPushedToEps()
    {
        // Means per coordinate: 0.5 (kept), −0.01 (→ −0.1), 0.04 (→ 0.1), 0 (kept: neither above nor below 0), 3 (kept).
        using var latents = tensor(new float[] { 0.7f, -0.02f, 0.08f, 1f, 2f, 0.3f, 0f, 0f, -1f, 4f }, [2, 5]);
        using var centre = IgdDetector.CenterOf(latents, 0.1);
        Assert.Equal([1L, 5L], centre.shape);
        var c = centre.data<float>().ToArray();
        float[] expected = [0.5f, -0.1f, 0.1f, 0f, 3f];
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], c[i], 1e-6f);
    }

    [Fact]
    public void TheWidthIsTheMeanOverBatchesOfTheBatchMeanSquaredDistanceAtLeastOne()
    {
        // c = (0, 0). Batch 1: ‖z‖² = 4 and 16 → mean 10. Batch 2: ‖z‖² = 0.25 → below 1, counts as 1. σ = (10 + 1) / 2.
        using var centre = zeros(1, 2);
        using var first = tensor(new float[] { 2f, 0f, 0f, -4f }, [2, 2]);
        using var second = tensor(new float[] { 0.3f, 0.4f }, [1, 2]);
        using var sigma = IgdDetector.Sigma([first, second], centre);
        Assert.Equal(5.5f, sigma.item<float>(), 1e-5f);
    }

    [Fact]
    public void TheGaussianScoreIsOneMinusTheGaussianOfTheSquaredDistance()
    {
        using var generator = new IgdGenerator(features: 4, latent: 3, width: 1, height: 64, imageWidth: 64);
        using var centre = tensor(new float[] { 1f, -1f, 0.5f }, [1, 3]);
        using var sigma = tensor(2.5f);
        generator.SetDescriptor(centre, sigma);
        using var latents = tensor(new float[] { 1f, -1f, 0.5f, 2f, 0f, -0.5f }, [2, 3]);
        var scores = generator.GaussianScore(latents).data<float>().ToArray();
        Assert.Equal(0f, scores[0], 1e-6f); // at the centre
        Assert.Equal(1 - Math.Exp(-3 / 2.5), scores[1], 1e-6); // ‖(1, 1, −1)‖² = 3
    }

    [Fact]
    public void TheCriticLossComparesEveryValueWithEveryAlpha()
    {
        // (1 − .1)² + (1 − .3)² + (2 − .1)² + (2 − .3)² = .81 + .49 + 3.61 + 2.89 = 7.8 over 4 pairs = 1.95;
        // reconstructions: (.25 + .25) / 2 = .25.
        using var values = tensor(new float[] { 1f, 2f });
        using var alpha = tensor(new float[] { 0.1f, 0.3f }, [2, 1]);
        using var moved = tensor(new float[] { 0.5f, -0.5f });
        Assert.Equal(2.2f, IgdDetector.CriticLoss(values, alpha, moved).item<float>(), 1e-5f);
    }

    [Fact]
    public void MultiScaleSsimOfConstantImagesIsTheLastLevelsLuminanceTermToItsWeight()
    {
        // Constant images a and b have no variance: every contrast-structure term is c₂ / c₂ = 1, so MS-SSIM is the last
        // level's SSIM, (2ab + c₁) / (a² + b² + c₁), to the last weight; the SSIM maps hold that value, valid-sized.
        const double range = 4.7579, a = 1.0, b = 0.5, c1 = 0.01 * range * 0.01 * range;
        double[] weights = [0.3, 0.7];
        using var x = full(1, 3, 32, 32, (float)a);
        using var y = full(1, 3, 32, 32, (float)b);
        var (values, maps) = IgdSimilarity.MultiScale(x, y, range, 11, weights);
        double luminance = (2 * a * b + c1) / (a * a + b * b + c1);
        Assert.Equal(Math.Pow(luminance, 0.7), values.item<float>(), 1e-5);
        Assert.Equal([1L, 3L, 22L, 22L], maps[0].shape); // 32 − 11 + 1
        Assert.Equal([1L, 3L, 6L, 6L], maps[1].shape);   // 16 − 11 + 1
        Assert.Equal(luminance, maps[0].mean().item<float>(), 1e-5);

        var (same, _) = IgdSimilarity.MultiScale(x, x, range, 11, weights);
        Assert.Equal(1f, same.item<float>(), 1e-6f);
    }

    [Fact]
    public void AnInputTooSmallForTheMultiScaleWindowIsAClearError()
    {
        // The contract tests' 128 × 128 input: five levels halve it to 8 pixels, below the 11-pixel window.
        var model = DetectorRegistry.Parse("igd");
        var trainer = (IGradientTrainer)model.CreateTrainer();
        var error = Assert.Throws<VigilInputException>(() => trainer.Create(DetectorContractTests.Check.BackboneFor(model), 0));
        Assert.Contains("smaller than its 11-pixel window", error.Message);
    }
}
