using Vigil.Components;
using Vigil.Detectors.PatchCore;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>
/// PatchCore's fit keeps only the projected features in memory and reads the chosen rows back from disk; its bank
/// must be exactly the one chosen with every feature in memory: the coreset of all patch features (as
/// <see cref="PatchCoreDetector.PatchFeatures"/> returns them, one tensor) picked by the in-memory
/// <see cref="KCenterGreedy.ApproximateCoreset(Tensor, double, long, int, int, CancellationToken)"/>.
/// </summary>
public sealed class PatchCoreSpilledFitTests : IDisposable
{
    // 20 images × 16 × 16 positions = 5120 rows: more than one projection block, in batches of 3 images (768 rows).
    private readonly SyntheticTextures _data = new(seed: 4, trainCount: 20, testNormalCount: 1, testDefectiveCount: 2);

    [Theory]
    [InlineData(0.1, 0L)]
    [InlineData(0.01, 7L)]
    public void TheBankIsTheCoresetOfAllFeaturesHeldInMemory(double ratio, long seed)
    {
        var options = new PatchCoreOptions { CoresetRatio = ratio, BatchSize = 3 };
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(), options, seed);
        detector.Fit(_data.Train);

        using var scope = NewDisposeScope();
        var features = detector.PatchFeatures(_data.Train);
        var picks = KCenterGreedy.ApproximateCoreset(features, ratio, seed, options.CoresetProjectionDimension, options.CoresetStartPoints);
        var expected = features.index_select(0, tensor(picks.Select(i => (long)i).ToArray()));
        Assert.Equal(expected.shape, detector.MemoryBank!.shape);
        Assert.True(expected.eq(detector.MemoryBank).all().item<bool>(), "the bank differs from the in-memory coreset");
    }

    [Fact]
    public void WithSoftPatchTheBankIsTheCoresetOfTheInliersHeldInMemory()
    {
        var options = new PatchCoreOptions { CoresetRatio = 0.05, BatchSize = 3, Denoising = PatchOutlierMethod.Lof, DenoisingDiscardRatio = 0.1 };
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(), options, seed: 3);
        detector.Fit(_data.Train);

        // SoftPatch on all features in memory: LOF per position on the projected features, the top 10 % discarded,
        // then the coreset of the inliers on their projected rows, start points drawn after the projection.
        using var scope = NewDisposeScope();
        var features = detector.PatchFeatures(_data.Train);
        long n = features.shape[0], positions = n / _data.Train.Count;
        using var projection = new CoresetProjection(features.shape[1], options.CoresetProjectionDimension, 3, (int)n);
        projection.Add(features);
        var projected = tensor(projection.Projected.Values, new[] { n, (long)projection.Projected.Stride }).narrow(1, 0, options.CoresetProjectionDimension);
        var scores = PatchOutlierScores.LocalOutlierFactors(projected.reshape(_data.Train.Count, positions, -1).permute(1, 0, 2), 6).t().reshape(-1);
        var inliers = PatchOutlierScores.Inliers(scores, 0.1);
        int count = (int)(n * 0.05);
        var picks = KCenterGreedy.Select(projected.index_select(0, tensor(inliers)), count, projection.StartPoints(inliers.Length, options.CoresetStartPoints));
        var chosen = tensor(picks.Select(p => inliers[p]).ToArray());

        Assert.True(features.index_select(0, chosen).eq(detector.MemoryBank!).all().item<bool>(), "the bank differs from the in-memory SoftPatch coreset");
        var weights = scores.index_select(0, chosen).to_type(ScalarType.Float32).clamp_min(0);
        Assert.True(weights.eq(detector.BankWeights!).all().item<bool>(), "the bank weights differ");
    }

    public void Dispose() => _data.Dispose();
}
