using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Bgad;
using Vigil.Metrics;
using Vigil.Registry;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.Bgad;

/// <summary>
/// BGAD: its boundary, semi-push-pull loss and focal weights against hand-computed cases (losses/losses.py), and, as
/// the detector contract checks the unsupervised detectors, on synthetic textures with a few labelled anomalies and their
/// masks: ranks defective images above normal ones with the map inside the defects, saves and loads, repeats with the
/// same seed, and refuses labelled anomalies without masks.
/// </summary>
public sealed class BgadTests : IDisposable
{
    // A tiny schedule: 4 epochs (the first on normal images only) of batches of 4 at 128 × 128, fibre batches of 256.
    private const string Quick = "bgad:epochs=4,batch=4,warmup=1,cosine_every=1,normal_epochs=1,fiber_batch=256";
    private readonly LabelledTextures _data = new();

    private IReadOnlyList<Sample> Labelled => _data.Labelled;
    private IReadOnlyList<Sample> Test => _data.Test;
    private TrainingData Supervised => _data.Supervised;
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
    public void RanksDefectiveImagesAboveNormalOnesWithTheMapInTheDefects()
    {
        using var detector = DetectorRegistry.Parse(Quick).CreateTrainer().Fit(Supervised, new TrainingContext(0, Backbone));
        var predictions = Test.Select(s => (Sample: s, Prediction: detector.Predict(s.LoadImage()))).ToList();
        double auroc = Auroc.MannWhitney(predictions.Select(p => (p.Prediction.Score, p.Sample.IsAnomalous)).ToList());
        Assert.True(auroc > 0.9, $"BGAD image AUROC {auroc:F3} on the held-out textures");
        // Pixel AUROC over the held-out defective images' maps and masks.
        var pixels = predictions.Where(p => p.Sample.IsAnomalous).SelectMany(p =>
        {
            var mask = p.Sample.Load().Mask;
            return p.Prediction.Map.Data.Select((v, i) => (v, mask.Data[i]));
        }).ToList();
        double pixelAuroc = Auroc.MannWhitney(pixels);
        Assert.True(pixelAuroc > 0.9, $"BGAD pixel AUROC {pixelAuroc:F3} on the held-out defects");
        var training = ((Vigil.Detectors.Trained.ITrainedDetector)detector).Training!;
        Assert.Equal(_data.Train.Count + Labelled.Count, training.TrainImages);
    }

    [Fact]
    public void SavesAndLoadsAndRepeatsWithTheSameSeed() => _data.AssertSavesLoadsAndRepeats(Quick);

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
