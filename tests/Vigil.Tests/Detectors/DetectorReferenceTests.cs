using TorchSharp;
using Vigil.Detectors;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>Detector scores against the methods' definitions computed by hand from the raw extractor features.</summary>
public class DetectorReferenceTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    [Fact]
    public void PatchCoreWithIdentityEmbeddingScoresTheSquaredNearestDistanceOfRawFeatures()
    {
        // Patch size 1, one layer, pooling lengths = channels, full bank: the embedding is the raw layer feature.
        var options = new PatchCoreOptions { Layers = ["layer2"], PatchSize = 1, PretrainEmbedDimension = 16, TargetEmbedDimension = 16, CoresetRatio = 1 };
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        detector.Fit(fixture.Data.Train);
        Assert.Equal(12 * 16 * 16, detector.MemoryBankSize);

        var bank = fixture.Data.Train.SelectMany(s => PositionVectors(extractor, s.LoadImage(), 1)).ToList();
        foreach (var sample in fixture.Data.Test.Take(2).Concat(fixture.Data.Test.TakeLast(2)))
        {
            var image = sample.LoadImage();
            double expected = PositionVectors(extractor, image, 1).Max(q => bank.Min(b => q.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum()));
            Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);
        }
    }

    [Fact]
    public void PatchCoreCoresetKeepsTheRequestedFractionAndReweightingOnlyScalesScores()
    {
        using var plain = new PatchCoreDetector(new RandomConvFeatureExtractor(), new PatchCoreOptions { CoresetRatio = 0.1 });
        using var reweighted = new PatchCoreDetector(new RandomConvFeatureExtractor(), new PatchCoreOptions { CoresetRatio = 0.1, ReweightingNeighbours = 3 });
        plain.Fit(fixture.Data.Train);
        reweighted.Fit(fixture.Data.Train);
        Assert.Equal((int)(12 * 16 * 16 * 0.1), plain.MemoryBankSize);
        foreach (var sample in fixture.Data.Test)
        {
            var image = sample.LoadImage();
            float s = plain.Predict(image).Score, r = reweighted.Predict(image).Score;
            // The weight 1 − softmax(…)₀ lies in (0, 1): re-weighting can only shrink a positive score.
            Assert.InRange(r, 0, s);
            Assert.True(r > 0);
        }
    }

    [Fact]
    public void SpadeImageScoreIsTheMeanDistanceToTheKNearestTrainingImagesGlobalFeatures()
    {
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new SpadeDetector(new RandomConvFeatureExtractor(), new SpadeOptions { NearestImages = 4 });
        detector.Fit(fixture.Data.Train);
        var train = fixture.Data.Train.Select(s => GlobalVector(extractor, s.LoadImage())).ToList();
        foreach (var sample in fixture.Data.Test.Take(2).Concat(fixture.Data.Test.TakeLast(2)))
        {
            var image = sample.LoadImage();
            var g = GlobalVector(extractor, image);
            double expected = train.Select(t => Math.Sqrt(g.Zip(t, (x, y) => (double)(x - y) * (x - y)).Sum())).OrderBy(d => d).Take(4).Average();
            Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);
        }
    }

    [Fact]
    public void PadimRejectsMoreDimensionsThanChannels()
    {
        // layer1..3 of the test net have 8 + 16 + 32 channels.
        var error = Assert.Throws<VigilInputException>(() => new PadimDetector(new RandomConvFeatureExtractor(), new PadimOptions { Dimensions = 57 }));
        Assert.Contains("56", error.Message);
        using var detector = new PadimDetector(new RandomConvFeatureExtractor());
        Assert.Equal(56, detector.Dimensions);
    }

    [Fact]
    public void MissingLayerIsAnInputErrorNamingTheAvailableLayers()
    {
        var error = Assert.Throws<VigilInputException>(() => new SpadeDetector(new RandomConvFeatureExtractor(), new SpadeOptions { GlobalLayer = "avgpool" }));
        Assert.Contains("avgpool", error.Message);
        Assert.Contains("layer4", error.Message);
    }

    /// <summary>One feature vector per grid position of layer <paramref name="layer"/>, row-major.</summary>
    private static List<float[]> PositionVectors(RandomConvFeatureExtractor extractor, ImageTensor image, int layer)
    {
        using var scope = NewDisposeScope();
        var map = extractor.Extract([image])[layer][0]; // [C, h, w]
        long c = map.shape[0], positions = map.shape[1] * map.shape[2];
        var data = map.reshape(c, positions).t().contiguous().data<float>().ToArray();
        return Enumerable.Range(0, (int)positions).Select(p => data.AsSpan(p * (int)c, (int)c).ToArray()).ToList();
    }

    private static float[] GlobalVector(RandomConvFeatureExtractor extractor, ImageTensor image) =>
        PositionVectors(extractor, image, 3).Aggregate(new float[32], (sum, v) => sum.Zip(v, (a, b) => a + b).ToArray())
            .Select(v => v / 16f).ToArray();
}
