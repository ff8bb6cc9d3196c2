using Vigil.Components;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Tests.Detectors;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

/// <summary>
/// The inverted file against brute force (<see cref="NearestNeighbours.Search"/>, float64 distances): exact when every list is probed,
/// never below the true distance, nearly always right on clustered data with one probe; and PatchCore with
/// <c>search=ivf</c> probing every list predicts exactly what the exact search predicts, also after save and load.
/// </summary>
public sealed class InvertedFileIndexTests
{
    [Fact]
    public void ProbingEveryListGivesTheExactNearestRows()
    {
        var generator = new Generator(5);
        using var bank = randn(600, 24, generator: generator);
        using var queries = randn(200, 24, generator: generator);
        using var index = InvertedFileIndex.Build(bank, lists: 30, probes: 30, seed: 1);
        var (distances, indices) = index.Search(queries);
        var (expected, expectedIndices) = NearestNeighbours.Search(queries, bank);
        Assert.Equal(expectedIndices.squeeze(1).data<long>().ToArray(), indices.data<long>().ToArray());
        Assert.True(distances.allclose(expected.squeeze(1), rtol: 1e-5, atol: 1e-5), "distances differ from brute force");
    }

    [Fact]
    public void FewProbesNeverFindACloserRowAndFindTheNearestInSeparatedClusters()
    {
        // 16 clusters of 50 rows (spread 0.1) around centres 10 apart; queries drawn around the same centres.
        var generator = new Generator(8);
        using var centres = randn(16, 32, generator: generator) * 10;
        using var bank = centres.repeat_interleave(50, 0) + 0.1 * randn(800, 32, generator: generator);
        using var queries = centres.repeat_interleave(5, 0) + 0.1 * randn(80, 32, generator: generator);
        using var index = InvertedFileIndex.Build(bank, lists: 16, probes: 1, seed: 2);
        var (distances, indices) = index.Search(queries);
        // The reference in float64: near rows of large norm, ‖q‖² − 2q·b + ‖b‖² in float32 loses the small distances.
        var (exact, exactIndices) = cdist(queries.to_type(ScalarType.Float64), bank.to_type(ScalarType.Float64)).square().min(1);
        Assert.True((distances.to_type(ScalarType.Float64) >= exact * (1 - 1e-5)).all().item<bool>(), "an approximate distance is below the exact one");
        double recall = indices.eq(exactIndices).to_type(ScalarType.Float64).mean().item<double>();
        Assert.True(recall >= 0.95, $"recall@1 {recall:F3} with one probe on separated clusters");
    }

    [Fact]
    public void BuildRefusesMoreListsThanRows()
    {
        using var bank = zeros(5, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => InvertedFileIndex.Build(bank, lists: 6, probes: 1, seed: 0));
    }

    [Fact]
    public void PatchCoreWithEveryListProbedPredictsAsTheExactSearchAndAfterSaveAndLoad()
    {
        using var data = new SyntheticTextures(seed: 6, trainCount: 6, testNormalCount: 2, testDefectiveCount: 2);
        using var exact = new PatchCoreDetector(new RandomConvFeatureExtractor(), new PatchCoreOptions(), seed: 3);
        exact.Fit(data.Train);
        var ivfOptions = new PatchCoreOptions { Search = BankSearch.Ivf, IvfLists = 10, IvfProbes = 10 };
        using var ivf = new PatchCoreDetector(new RandomConvFeatureExtractor(), ivfOptions, seed: 3);
        ivf.Fit(data.Train);
        var path = Path.Combine(Path.GetTempPath(), $"vigil-ivf-{Guid.NewGuid():N}.vgl");
        try
        {
            ivf.Save(path);
            using var loaded = DetectorTesting.Load(path, _ => new RandomConvFeatureExtractor());
            foreach (var sample in data.Test)
            {
                var image = sample.LoadImage();
                var expected = ((IDetector)exact).Predict(image);
                Assert.Equal(expected.Score, ((IDetector)ivf).Predict(image).Score);
                Assert.Equal(expected.Map.Data, ((IDetector)ivf).Predict(image).Map.Data);
                Assert.Equal(expected.Score, loaded.Predict(image).Score);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
