using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Bgad;
using Vigil.Registry;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.Bgad;

/// <summary>
/// BGAD: its boundary, semi-push-pull loss and focal weights against hand-computed cases (losses/losses.py), and that it
/// refuses labelled anomalies without masks (the contract: <see cref="SupervisedContractTests"/>).
/// </summary>
public sealed class BgadTests : IDisposable
{
    private static string Quick => SupervisedContractTests.Quick["bgad"];
    private readonly LabelledTextures _data = new();

    private IReadOnlyList<Sample> Labelled => _data.Labelled;
    private static IBackboneProvider Backbone => LabelledTextures.Backbone;

    // Normal log-likelihoods [-5, -1, -3, -2, -4] / 10; abnormal [-2, -6, -4.5] / 10.
    private static Tensor Normal => tensor(new[] { -5f, -1f, -3f, -2f, -4f });
    private static Tensor Abnormal => tensor(new[] { -2f, -6f, -4.5f });

    [Fact]
    public void BoundariesAreTheNormalQuantileAndAMarginBelowIt()
    {
        // ⌊5 · 0.2⌋ = 1: the second smallest, −4, over 10 is b_n = −0.4; b_a = −0.4 − 0.1.
        var (normal, abnormal) = BoundaryGuidedLoss.Boundaries(Normal, positionBeta: 0.2, marginTau: 0.1, normalizer: 10);
        Assert.Equal(-0.4, normal, 6);
        Assert.Equal(-0.5, abnormal, 6);
        // β = 0: the smallest.
        Assert.Equal(-0.5, BoundaryGuidedLoss.Boundaries(Normal, 0, 0.1, 10).Normal, 6);
    }

    [Fact]
    public void SemiPushPullPullsNormalsBelowTheBoundaryAndPushesAnomaliesAboveTheMargin()
    {
        var boundaries = (-0.4, -0.5);
        // Pulled: −0.5 by 0.1 and −0.4 by 0 (mean 0.05); pushed: −0.2 by 0.3 and −0.45 by 0.05 (mean 0.175).
        Assert.Equal(0.225f, BoundaryGuidedLoss.SemiPushPull(Normal, Abnormal, boundaries, 10).item<float>(), 5);
        // Weighted: normal weights 2 (−0.5) and 3 (−0.4): (0.2 + 0) / 2; abnormal 1 (−0.2) and 4 (−0.45): (0.3 + 0.2) / 2.
        var weighted = BoundaryGuidedLoss.SemiPushPull(Normal, Abnormal, boundaries, 10,
            tensor(new[] { 2f, 1f, 1f, 1f, 3f }), tensor(new[] { 1f, 1f, 4f }));
        Assert.Equal(0.35f, weighted.item<float>(), 5);
        // No anomaly above the margin: that side adds 0 (the official NaN mean), the loss stays finite.
        Assert.Equal(0.05f, BoundaryGuidedLoss.SemiPushPull(Normal, tensor(new[] { -9f }), boundaries, 10).item<float>(), 5);
    }

    [Fact]
    public void FocalWeightsAreTheOfficialFormulas()
    {
        // Normal: l = −0.1 > −0.2 → 1; l = −0.5 → 11.7 √(1 − e^−0.5) · 0.5.
        var normal = BoundaryGuidedLoss.NormalWeights(tensor(new[] { -1f, -5f }), 10).data<float>().ToArray();
        Assert.Equal(1f, normal[0]);
        Assert.Equal(11.7 * Math.Sqrt(1 - Math.Exp(-0.5)) * 0.5, normal[1], 4);
        // Abnormal: l = −2 ≤ −1 → 1; l = −0.5 → 0.53 (1 + e^−0.5)² / 0.5.
        var abnormal = BoundaryGuidedLoss.AbnormalWeights(tensor(new[] { -20f, -5f }), 10).data<float>().ToArray();
        Assert.Equal(1f, abnormal[0]);
        Assert.Equal(0.53 * Math.Pow(1 + Math.Exp(-0.5), 2) / 0.5, abnormal[1], 4);
    }

    [Fact]
    public void RefusesLabelledAnomaliesWithoutMasksNamingTheImage()
    {
        var unmasked = Labelled[0] with { Mask = null };
        var data = new TrainingData(_data.Train) { Anomalies = [unmasked, .. Labelled.Skip(1)] };
        var error = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse(Quick).CreateTrainer().Fit(data, new TrainingContext(0, Backbone)));
        Assert.Contains(unmasked.SourcePath, error.Message);
        Assert.Contains("mask", error.Message);
    }

    public void Dispose() => _data.Dispose();
}
