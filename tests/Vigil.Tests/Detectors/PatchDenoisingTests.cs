using TorchSharp;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>
/// SoftPatch denoising: the outlier scores against brute-force definitions, the discard threshold against a hand
/// quantile, and on hand-made training images (one with a bright square) the discarded patches are exactly where
/// the square is; soft weighting multiplies the nearest distance by the matched bank patch's score.
/// </summary>
public sealed class PatchDenoisingTests : IDisposable
{
    private const int Size = 64, Images = 20, OddImage = 3, SquareStart = 24, SquareEnd = 39; // square pixels 24..39
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-denoising-").FullName;
    private readonly IReadOnlyList<Sample> _train;
    private readonly Sample _test;

    public PatchDenoisingTests()
    {
        var random = new Random(7);
        _train = Enumerable.Range(0, Images).Select(i => Write($"train_{i}", random, i == OddImage)).ToList();
        _test = Write("test", random, false);
    }

    /// <summary>No resize or crop: pixel (y, x) of the image is pixel (y, x) of the network input.</summary>
    private static RandomConvFeatureExtractor Extractor() => new(preprocessing: new Preprocessing(Size, Size));

    /// <summary>Identity embedding (layer2's 16 raw channels per position), full bank: the bank is exactly the kept patches.</summary>
    private static PatchCoreOptions Options(PatchDenoising? denoising) => new()
    {
        Layers = ["layer2"], PatchSize = 1, PretrainEmbedDimension = 16, TargetEmbedDimension = 16, CoresetRatio = 1,
        Denoising = denoising?.Method, DenoisingDiscardRatio = denoising?.DiscardRatio ?? 0.15, DenoisingNeighbours = denoising?.Neighbours ?? 6,
        SoftWeighting = denoising?.SoftWeighting ?? true,
    };

    [Theory]
    [InlineData(PatchOutlierMethod.Lof)]
    [InlineData(PatchOutlierMethod.Knn)]
    public void DiscardsThePatchesOfTheBrightSquareAndNothingElse(PatchOutlierMethod method)
    {
        // layer2 cell c (stride 4) sees pixels 4c−3 … 4c+3 of the 64×64 input: cells 7..9 see only the square (pixels
        // 24..39), cells 6..10 see some of it, and the 4×4 cells 6..9 mostly the square. Discard as many patches as
        // that 4×4 block has: all must come from the odd image where it touches the square, including cells 7..9.
        const int positions = 16 * 16, discard = 16;
        using var detector = new PatchCoreDetector(Extractor(), Options(new PatchDenoising { Method = method, DiscardRatio = discard / (double)(Images * positions) }));
        detector.Fit(_train);

        using var extractor = Extractor();
        var all = _train.SelectMany(s => RawPatches(extractor, s.LoadImage())).ToList(); // image-major, row-major positions
        var bank = ContinualFitTests.Rows(detector.MemoryBank!);
        var kept = new HashSet<int>();
        int next = 0;
        foreach (var row in bank) // the bank keeps the inliers in order: walk the full list to find each
        {
            while (!Close(row, all[next])) next++;
            kept.Add(next++);
        }
        var discarded = Enumerable.Range(0, all.Count).Where(i => !kept.Contains(i)).Select(i => (Image: i / positions, Y: i % positions / 16, X: i % 16)).ToList();

        Assert.Equal(discard, discarded.Count);
        Assert.All(discarded, p => Assert.True(p.Image == OddImage && p.Y is >= 6 and <= 10 && p.X is >= 6 and <= 10, $"discarded {p}"));
        for (int y = 7; y <= 9; y++)
            for (int x = 7; x <= 9; x++) Assert.Contains((OddImage, y, x), discarded);
    }

    [Fact]
    public void SoftWeightingMultipliesTheNearestDistanceByTheMatchedBankPatchsScore()
    {
        using var detector = new PatchCoreDetector(Extractor(), Options(new PatchDenoising { DiscardRatio = 0.05 }));
        detector.Fit(_train);
        var bank = ContinualFitTests.Rows(detector.MemoryBank!);
        var weights = detector.BankWeights!.data<float>().ToArray();
        Assert.Equal(bank.Count, weights.Length);
        Assert.All(weights, w => Assert.True(w > 0)); // LOF scores are positive (about 1 for inliers)

        using var extractor = Extractor();
        var image = _test.LoadImage();
        double expected = RawPatches(extractor, image).Max(q =>
        {
            int nearest = Enumerable.Range(0, bank.Count).MinBy(b => SquaredDistance(q, bank[b]));
            return SquaredDistance(q, bank[nearest]) * weights[nearest];
        });
        Assert.Equal(expected, detector.Predict(image).Score, expected * 1e-4);

        using var plain = new PatchCoreDetector(Extractor(), Options(null));
        plain.Fit(_train);
        Assert.Null(plain.BankWeights);
        Assert.Equal(Images * 16 * 16, plain.MemoryBankSize);
    }

    [Fact]
    public void LocalOutlierFactorsMatchTheDefinitionComputedByBruteForce()
    {
        var random = new Random(11);
        const int p = 3, n = 15, d = 4;
        var data = new double[p, n, d];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < n; j++)
                for (int c = 0; c < d; c++) data[i, j, c] = random.NextDouble() * (j == 4 ? 3 : 1); // point 4 spread out
        using var scope = NewDisposeScope();
        var positions = tensor(data.Cast<double>().ToArray(), p, n, d);
        foreach (int k in new[] { 1, 4, 30 }) // 30 is capped at n − 1 = 14
        {
            var actual = PatchOutlierScores.LocalOutlierFactors(positions, k).data<double>().ToArray();
            for (int i = 0; i < p; i++)
            {
                var points = Enumerable.Range(0, n).Select(j => Enumerable.Range(0, d).Select(c => data[i, j, c]).ToArray()).ToArray();
                var expected = BruteForceLof(points, Math.Min(k, n - 1));
                for (int j = 0; j < n; j++) Assert.Equal(expected[j], actual[i * n + j], 1e-9);
            }
        }
    }

    [Fact]
    public void KnnAndGaussianScoresMatchTheirDefinitions()
    {
        var random = new Random(12);
        const int p = 2, n = 9;
        var data = Enumerable.Range(0, p * n).Select(_ => random.NextDouble()).ToArray();
        using var scope = NewDisposeScope();
        var positions = tensor(data, p, n, 1); // one dimension: Mahalanobis is |x − μ| / √(var + 0.01)
        var knn = PatchOutlierScores.Compute(positions, PatchOutlierMethod.Knn, 3).data<double>().ToArray();
        var gaussian = PatchOutlierScores.Compute(positions, PatchOutlierMethod.Gaussian, 3).data<double>().ToArray();
        for (int i = 0; i < p; i++)
        {
            var x = data.AsSpan(i * n, n).ToArray();
            double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / (n - 1);
            for (int j = 0; j < n; j++)
            {
                double nearest = x.Where((_, o) => o != j).Select(v => Math.Abs(v - x[j])).Order().Take(3).Average();
                Assert.Equal(1 + nearest, knn[i * n + j], 1e-9);
                Assert.Equal(1 + Math.Abs(x[j] - mean) / Math.Sqrt(variance + 0.01), gaussian[i * n + j], 1e-5); // float32 Mahalanobis
            }
        }
    }

    [Fact]
    public void InliersAreTheScoresUpToTheLinearlyInterpolatedQuantile()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new double[] { 5, 1, 9, 3, 7, 2, 10, 4, 8, 6 });
        // Quantile 0.8 of 1..10: position 0.8·9 = 7.2 → 8 + 0.2·(9 − 8) = 8.2; kept: scores ≤ 8.2, in index order.
        Assert.Equal([0L, 1, 3, 4, 5, 7, 8, 9], PatchOutlierScores.Inliers(scores, 0.2));
        Assert.Equal(10, PatchOutlierScores.Inliers(scores, 0).Length);
    }

    [Fact]
    public void DenoisingNeedsTwoTrainingImages()
    {
        using var detector = new PatchCoreDetector(Extractor(), Options(new PatchDenoising()));
        var error = Assert.Throws<VigilInputException>(() => detector.Fit(_train.Take(1).ToList()));
        Assert.Contains("at least 2", error.Message);
    }

    /// <summary>scikit-learn's LocalOutlierFactor on the training points, written out loop by loop.</summary>
    private static double[] BruteForceLof(double[][] points, int k)
    {
        int n = points.Length;
        double Distance(int a, int b) => Math.Sqrt(points[a].Zip(points[b], (x, y) => (x - y) * (x - y)).Sum());
        var neighbours = Enumerable.Range(0, n).Select(a => Enumerable.Range(0, n).Where(b => b != a).OrderBy(b => Distance(a, b)).Take(k).ToArray()).ToArray();
        var kDistance = Enumerable.Range(0, n).Select(a => Distance(a, neighbours[a][^1])).ToArray();
        var lrd = Enumerable.Range(0, n).Select(a => 1 / (neighbours[a].Average(b => Math.Max(kDistance[b], Distance(a, b))) + 1e-10)).ToArray();
        return Enumerable.Range(0, n).Select(a => neighbours[a].Average(b => lrd[b]) / lrd[a]).ToArray();
    }

    /// <summary>Equal up to float rounding (the detector extracts in batches, the test image by image).</summary>
    private static bool Close(float[] a, float[] b) => a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= 1e-4f * (1 + Math.Abs(p.Second)));

    private static double SquaredDistance(float[] a, float[] b) => ContinualFitTests.SquaredDistance(a, b);

    /// <summary>layer2's feature vector at every grid position, row-major.</summary>
    private static List<float[]> RawPatches(RandomConvFeatureExtractor extractor, ImageTensor image)
    {
        using var scope = NewDisposeScope();
        var map = extractor.Extract([image])[1][0]; // [16, 16, 16]
        var data = map.reshape(16, 256).t().contiguous().data<float>().ToArray();
        return Enumerable.Range(0, 256).Select(p => data.AsSpan(p * 16, 16).ToArray()).ToList();
    }

    private Sample Write(string name, Random random, bool brightSquare)
    {
        var image = new ImageTensor(3, Size, Size);
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                bool inSquare = brightSquare && y is >= SquareStart and <= SquareEnd && x is >= SquareStart and <= SquareEnd;
                float v = inSquare ? 1f : 0.35f + 0.3f * (float)random.NextDouble();
                for (int c = 0; c < 3; c++) image[c, y, x] = v;
            }
        var path = Path.Combine(_folder, name + ".png");
        ImageIO.Write(image, path);
        return new Sample(path, SampleLabel.Normal, "good", "synthetic", "noise");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
