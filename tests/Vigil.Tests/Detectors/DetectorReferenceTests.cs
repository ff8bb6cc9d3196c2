using TorchSharp;
using Vigil.Components;
using Vigil.Detectors;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Spade;
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

        var bank = fixture.Data.Train.SelectMany(s => PositionVectors(extractor, s.LoadImage(), 1)).Select(ToDouble).ToList();
        foreach (var sample in fixture.Data.Test.Take(1).Concat(fixture.Data.Test.TakeLast(1)))
        {
            var image = sample.LoadImage();
            double expected = PositionVectors(extractor, image, 1).Max(q => NearestSquaredDistance(ToDouble(q), bank));
            Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);
        }
    }

    [Fact]
    public void PatchCoreEmbeddingFollowsTheOfficialUnfoldAndAdaptivePooling()
    {
        // One layer, so no resizing: each position's zero-padded 3×3 neighbourhood flattened channel-major (C·9 = 144),
        // adaptively average-pooled to 50, then to 30; full bank, so the image score is a brute-force nearest distance.
        var options = new PatchCoreOptions { Layers = ["layer2"], PretrainEmbedDimension = 50, TargetEmbedDimension = 30, CoresetRatio = 1 };
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        detector.Fit(fixture.Data.Train);
        var bank = fixture.Data.Train.SelectMany(s => HandEmbedding(extractor, s.LoadImage())).ToList();
        foreach (var sample in fixture.Data.Test.Take(1).Concat(fixture.Data.Test.TakeLast(1)))
        {
            var image = sample.LoadImage();
            double expected = HandEmbedding(extractor, image).Max(q => NearestSquaredDistance(q, bank));
            Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);
        }
    }

    private static IEnumerable<double[]> HandEmbedding(RandomConvFeatureExtractor extractor, ImageTensor image)
    {
        var vectors = PositionVectors(extractor, image, 1); // 16×16 positions × 16 channels
        const int side = 16, channels = 16;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                var patch = new double[channels * 9];
                for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int yy = y + ky - 1, xx = x + kx - 1;
                            if (yy is >= 0 and < side && xx is >= 0 and < side) patch[c * 9 + ky * 3 + kx] = vectors[yy * side + xx][c];
                        }
                yield return AdaptiveAveragePool(AdaptiveAveragePool(patch, 50), 30);
            }
    }

    private static double[] ToDouble(float[] v) => Array.ConvertAll(v, x => (double)x);

    private static double NearestSquaredDistance(double[] query, List<double[]> bank)
    {
        double best = double.PositiveInfinity;
        foreach (var b in bank)
        {
            double sum = 0;
            for (int i = 0; i < query.Length; i++) sum += (query[i] - b[i]) * (query[i] - b[i]);
            best = Math.Min(best, sum);
        }
        return best;
    }

    /// <summary>torch's adaptive_avg_pool1d: output i averages inputs ⌊i·L/n⌋ … ⌈(i+1)·L/n⌉ − 1.</summary>
    private static double[] AdaptiveAveragePool(double[] input, int length) =>
        Enumerable.Range(0, length).Select(i =>
        {
            int start = i * input.Length / length, end = ((i + 1) * input.Length + length - 1) / length;
            return input[start..end].Average();
        }).ToArray();

    [Fact]
    public void PatchCoreCoresetKeepsTheRequestedFractionOfPatches()
    {
        using var plain = new PatchCoreDetector(new RandomConvFeatureExtractor(), new PatchCoreOptions { CoresetRatio = 0.1 });
        plain.Fit(fixture.Data.Train);
        Assert.Equal((int)(12 * 16 * 16 * 0.1), plain.MemoryBankSize);
    }

    [Fact]
    public void PatchCoreReweightingFollowsThePapersEquationSevenOnEuclideanDistances()
    {
        // Identity embedding and full bank, so the bank is the raw layer2 features and everything is computable by hand:
        // s* = ‖m_test,* − m*‖₂ for the test patch farthest from the bank, N_b(m*) the b = 3 bank features nearest to m*
        // (m* itself first), s = (1 − exp(s*) / Σ_{m ∈ N_b} exp‖m_test,* − m‖₂) · s*.
        var options = new PatchCoreOptions { Layers = ["layer2"], PatchSize = 1, PretrainEmbedDimension = 16, TargetEmbedDimension = 16, CoresetRatio = 1, ReweightingNeighbours = 3 };
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        detector.Fit(fixture.Data.Train);
        var bank = fixture.Data.Train.SelectMany(s => PositionVectors(extractor, s.LoadImage(), 1)).Select(ToDouble).ToList();
        foreach (var sample in fixture.Data.Test.Take(1).Concat(fixture.Data.Test.TakeLast(1)))
        {
            var image = sample.LoadImage();
            var worst = PositionVectors(extractor, image, 1).Select(ToDouble).MaxBy(q => NearestSquaredDistance(q, bank))!;
            var nearest = bank.MinBy(b => Distance(worst, b))!;
            var neighbourhood = bank.OrderBy(b => Distance(nearest, b)).Take(3).ToList();
            double sStar = Distance(worst, nearest);
            double expected = (1 - Math.Exp(sStar) / neighbourhood.Sum(m => Math.Exp(Distance(worst, m)))) * sStar;
            Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);
        }
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

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
    public void SpadeMapIsTheMeanOverLayersOfEachLayersNearestDistanceToTheKNearestImages()
    {
        // The reference code: per layer, each test position's Euclidean distance to the nearest feature at any
        // position of that layer in the K nearest training images; each layer's map upsampled bilinearly
        // (align_corners=False) to the 64×64 input; the mean of the maps. σ→0 leaves the smoothing out.
        const int k = 3;
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new SpadeDetector(new RandomConvFeatureExtractor(), new SpadeOptions { NearestImages = k, MapSigma = 1e-3 });
        detector.Fit(fixture.Data.Train);
        var image = fixture.Data.Test[^1].LoadImage();
        var global = GlobalVector(extractor, image);
        var nearest = fixture.Data.Train.OrderBy(t => Distance(ToDouble(GlobalVector(extractor, t.LoadImage())), ToDouble(global))).Take(k).ToList();
        var expected = new double[64, 64];
        for (int layer = 0; layer < 3; layer++)
        {
            var gallery = nearest.SelectMany(t => PositionVectors(extractor, t.LoadImage(), layer)).Select(ToDouble).ToList();
            var test = PositionVectors(extractor, image, layer).Select(ToDouble).ToList();
            int side = (int)Math.Sqrt(test.Count);
            var grid = new double[side, side];
            for (int p = 0; p < test.Count; p++) grid[p / side, p % side] = gallery.Min(g => Distance(test[p], g));
            var upsampled = UpsampleBilinear(grid, 64);
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) expected[y, x] += upsampled[y, x] / 3;
        }
        var view = detector.Predict(image).View!;
        Assert.Equal((64, 64), (view.Height, view.Width));
        double largest = expected.Cast<double>().Max();
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) Assert.Equal(expected[y, x], view[y, x], largest * 1e-4);
    }

    /// <summary>torch's interpolate(bilinear, align_corners=False) of a square grid to size × size, written out.</summary>
    private static double[,] UpsampleBilinear(double[,] grid, int size)
    {
        int n = grid.GetLength(0);
        double scale = (double)n / size;
        var result = new double[size, size];
        (int Low, int High, double Weight) Source(int i)
        {
            double s = Math.Max((i + 0.5) * scale - 0.5, 0);
            int low = Math.Min((int)s, n - 1);
            return (low, Math.Min(low + 1, n - 1), s - low);
        }
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var (y0, y1, wy) = Source(y);
                var (x0, x1, wx) = Source(x);
                result[y, x] = (1 - wy) * ((1 - wx) * grid[y0, x0] + wx * grid[y0, x1]) + wy * ((1 - wx) * grid[y1, x0] + wx * grid[y1, x1]);
            }
        return result;
    }

    [Fact]
    public void PadimDefaultChannelCountFollowsTheReferenceByBackbone()
    {
        Assert.Equal(100, PadimDetector.DefaultDimensions(448));  // ResNet18 layer1–3
        Assert.Equal(550, PadimDetector.DefaultDimensions(1792)); // WideResNet50 layer1–3
        Assert.Equal(100, PadimDetector.DefaultDimensions(1000));
        Assert.Equal(56, PadimDetector.DefaultDimensions(56));    // the tiny test backbone: all of them
    }

    [Fact]
    public void PadimMapIsTheSmoothedMahalanobisDistanceOfRawFeaturesToPerPositionGaussians()
    {
        // One layer and d = all its 8 channels: the embedding is the raw layer1 feature at each of 32×32 positions.
        // Batches of 3 make the fit merge streamed statistics several times (and a remainder); the reference is two-pass.
        using var extractor = new RandomConvFeatureExtractor();
        using var detector = new PadimDetector(new RandomConvFeatureExtractor(), new PadimOptions { Layers = ["layer1"], Dimensions = 8, BatchSize = 3 });
        detector.Fit(fixture.Data.Train);
        var train = fixture.Data.Train.Select(s => PositionVectors(extractor, s.LoadImage(), 0)).ToList();
        int positions = train[0].Count, n = train.Count;
        var image = fixture.Data.Test[^1].LoadImage();
        var test = PositionVectors(extractor, image, 0);
        var grid = new float[positions];
        for (int p = 0; p < positions; p++)
        {
            var mean = Enumerable.Range(0, 8).Select(c => train.Average(t => (double)t[p][c])).ToArray();
            var covariance = new double[8, 8];
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++)
                    covariance[i, j] = train.Sum(t => (t[p][i] - mean[i]) * (t[p][j] - mean[j])) / (n - 1) + (i == j ? 0.01 : 0);
            var inverse = GaussJordanInverse(covariance);
            double squared = 0;
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++) squared += (test[p][i] - mean[i]) * inverse[i, j] * (test[p][j] - mean[j]);
            grid[p] = (float)Math.Sqrt(squared);
        }
        using var scope = NewDisposeScope();
        var (expected, expectedView) = AnomalyMaps.ToImage(tensor(grid, 32, 32), extractor.Preprocessing, image.Height, image.Width, 4);
        float expectedMax = expectedView.Data.Max();
        var actual = detector.Predict(image);
        Assert.Equal(expectedMax, actual.Score, expectedMax * 1e-3);
        for (int i = 0; i < expected.Data.Length; i++) Assert.Equal(expected.Data[i], actual.Map.Data[i], expectedMax * 1e-3);
    }

    private static double[,] GaussJordanInverse(double[,] matrix)
    {
        int size = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var inverse = new double[size, size];
        for (int i = 0; i < size; i++) inverse[i, i] = 1;
        for (int col = 0; col < size; col++)
        {
            int pivot = Enumerable.Range(col, size - col).MaxBy(r => Math.Abs(a[r, col]));
            for (int k = 0; k < size; k++)
            {
                (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                (inverse[col, k], inverse[pivot, k]) = (inverse[pivot, k], inverse[col, k]);
            }
            double scale = a[col, col];
            for (int k = 0; k < size; k++) { a[col, k] /= scale; inverse[col, k] /= scale; }
            for (int r = 0; r < size; r++)
            {
                if (r == col) continue;
                double factor = a[r, col];
                for (int k = 0; k < size; k++) { a[r, k] -= factor * a[col, k]; inverse[r, k] -= factor * inverse[col, k]; }
            }
        }
        return inverse;
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
