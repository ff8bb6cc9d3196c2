using FsCheck.Xunit;
using Vigil.Components;
using static TorchSharp.torch;
using static Vigil.Tests.Components.NearestNeighboursTests;

namespace Vigil.Tests.Components;

public class KCenterGreedyTests
{
    [Fact]
    public void PicksTheSamePointsAsADoublePrecisionReferenceOnGenericData()
    {
        var points = RandomMatrix(new Random(11), 80, 5);
        int[] starts = [3, 17, 42];
        using var scope = NewDisposeScope();
        var picked = KCenterGreedy.Select(ToTensor(points), 20, starts);
        Assert.Equal(DoubleReferenceGreedy(points, 20, starts), picked);
    }

    [Theory]
    [InlineData(1, 200, 5, 60, 3, false)]      // generic data, one row shorter than a padded row
    [InlineData(2, 500, 37, 250, 10, false)]   // two 32-value blocks per row (early exit between them)
    [InlineData(3, 400, 3, 400, 4, true)]      // integer grid: many duplicates and exact ties; all rows picked
    [InlineData(4, 1000, 128, 400, 10, true)]  // clustered blobs of different spreads
    [InlineData(5, 600, 40, 600, 10, false)]   // every row: late picks are duplicates at distance 0
    [InlineData(6, 1, 7, 1, 1, false)]
    [InlineData(7, 1500, 4, 1500, 10, false)]  // long runs of picks folded in at once (split across threads)
    public void PicksExactlyWhatTheStraightforwardAlgorithmPicks(int seed, int n, int d, int count, int startCount, bool clusteredOrGrid)
    {
        var random = new Random(seed);
        var rows = clusteredOrGrid ? (d <= 3 ? Grid(random, n, d) : Clustered(random, n, d, 40)) : Uniform(random, n, d);
        var starts = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(startCount).ToArray();
        using var scope = NewDisposeScope();
        var picked = KCenterGreedy.Select(tensor(rows.SelectMany(r => r).ToArray(), n, d), count, starts);
        Assert.Equal(StraightforwardGreedy(rows, count, starts), picked);
    }

    [Property(MaxTest = 60)]
    public bool PicksExactlyWhatTheStraightforwardAlgorithmPicksOnGeneratedPoints(int seed, byte size, byte dims, bool grid)
    {
        var random = new Random(seed);
        int n = 1 + size % 120, d = 1 + dims % 40;
        var rows = grid ? Grid(random, n, d) : Clustered(random, n, d, 1 + n / 10);
        var starts = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(1 + random.Next(Math.Min(n, 10))).ToArray();
        int count = random.Next(n + 1);
        using var scope = NewDisposeScope();
        return StraightforwardGreedy(rows, count, starts).SequenceEqual(
            KCenterGreedy.Select(tensor(rows.SelectMany(r => r).ToArray(), n, d), count, starts));
    }

    [Fact]
    public void PaddedDistanceFollowsItsDocumentedSummationOrder()
    {
        var random = new Random(9);
        var rows = Uniform(random, 50, 77).Select(r => r.Select(v => v * 1000).ToArray()).ToList();
        var padded = new PaddedRows(rows.Count, 77);
        for (int i = 0; i < rows.Count; i++) rows[i].CopyTo(padded.Values, i * padded.Stride);
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows.Count; j++)
                Assert.Equal(DocumentedSquaredDistance(rows[i], rows[j]), padded.SquaredDistance(i, j));
    }

    [Fact]
    public void CoversThePointsAtLeastAsWellAsRandomSubsets()
    {
        var random = new Random(5);
        // One big cluster and 23 tiny ones, 100 apart, each inside a unit square: random subsets of 25 points
        // miss tiny clusters; farthest-point selection must take one point per cluster (radius ≤ √2).
        var points = new double[300 + 23 * 4, 2];
        for (int i = 0; i < points.GetLength(0); i++)
        {
            int cluster = i < 300 ? 0 : 1 + (i - 300) / 4;
            points[i, 0] = cluster % 6 * 100 + random.NextDouble();
            points[i, 1] = cluster / 6 * 100 + random.NextDouble();
        }
        using var scope = NewDisposeScope();
        var picked = KCenterGreedy.Select(ToTensor(points), 24, [0]);
        // The start point initialises distances without being picked, so it counts as a centre here.
        double greedyRadius = CoverageRadius(points, picked.Append(0));
        Assert.True(greedyRadius <= Math.Sqrt(2), $"greedy radius {greedyRadius} exceeds a unit square's diagonal");
        for (int trial = 0; trial < 50; trial++)
        {
            var subset = Enumerable.Range(0, points.GetLength(0)).OrderBy(_ => random.Next()).Take(25).ToArray();
            Assert.True(greedyRadius <= CoverageRadius(points, subset) + 1e-9,
                $"greedy radius {greedyRadius} exceeds random subset radius {CoverageRadius(points, subset)}");
        }
    }

    [Fact]
    public void ApproximateCoresetIsSeededAndKeepsTheRatio()
    {
        var points = RandomMatrix(new Random(2), 500, 300);
        using var scope = NewDisposeScope();
        var features = ToTensor(points);
        var first = KCenterGreedy.ApproximateCoreset(features, 0.1, seed: 4);
        var again = KCenterGreedy.ApproximateCoreset(features, 0.1, seed: 4);
        var other = KCenterGreedy.ApproximateCoreset(features, 0.1, seed: 5);
        Assert.Equal(50, first.Length);
        Assert.Equal(50, first.Distinct().Count());
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void NonFiniteFeaturesAreAnInputError()
    {
        using var scope = NewDisposeScope();
        var features = tensor(new[] { 0f, 1f, float.NaN, 2f }, 2, 2);
        Assert.Throws<VigilInputException>(() => KCenterGreedy.Select(features, 1, [0]));
    }

    /// <summary>
    /// The straightforward algorithm: after every pick, every point's value is lowered to its distance to the pick;
    /// the next pick is the first index of the largest value. Distances in PaddedRows' documented float order.
    /// </summary>
    internal static int[] StraightforwardGreedy(IReadOnlyList<float[]> rows, int count, int[] starts)
    {
        int n = rows.Count;
        var value = new float[n];
        for (int i = 0; i < n; i++)
        {
            float sum = 0;
            foreach (int s in starts) sum += MathF.Sqrt(DocumentedSquaredDistance(rows[i], rows[s]));
            float mean = sum / starts.Length;
            value[i] = mean * mean;
        }
        var picked = new int[count];
        for (int step = 0; step < count; step++)
        {
            int best = 0;
            for (int i = 1; i < n; i++) if (value[i] > value[best]) best = i;
            picked[step] = best;
            for (int i = 0; i < n; i++) value[i] = Math.Min(value[i], DocumentedSquaredDistance(rows[i], rows[best]));
        }
        return picked;
    }

    /// <summary>Scalar transcription of the order documented on PaddedRows.SquaredDistance.</summary>
    internal static float DocumentedSquaredDistance(float[] a, float[] b)
    {
        Span<float> sums = stackalloc float[32];
        for (int t = 0; t < a.Length; t++)
        {
            float d = a[t] - b[t];
            float square = d * d;
            sums[t % 32] += square;
        }
        Span<float> lane = stackalloc float[8];
        for (int l = 0; l < 8; l++) lane[l] = (sums[l] + sums[8 + l]) + (sums[16 + l] + sums[24 + l]);
        float h0 = lane[0] + lane[4], h1 = lane[1] + lane[5], h2 = lane[2] + lane[6], h3 = lane[3] + lane[7];
        return (h0 + h2) + (h1 + h3);
    }

    internal static List<float[]> Uniform(Random random, int n, int d) =>
        Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToList();

    /// <summary>Gaussian blobs of very different spreads around random centres, as patch features tend to be.</summary>
    internal static List<float[]> Clustered(Random random, int n, int d, int clusters)
    {
        var centres = Uniform(random, clusters, d).Select(c => c.Select(v => v * 10).ToArray()).ToList();
        var spreads = Enumerable.Range(0, clusters).Select(_ => Math.Pow(10, random.NextDouble() * 2 - 1.5)).ToArray();
        return Enumerable.Range(0, n).Select(_ =>
        {
            int k = random.Next(clusters);
            return centres[k].Select(v => (float)(v + spreads[k] * Gaussian(random))).ToArray();
        }).ToList();
    }

    /// <summary>Small integer coordinates: duplicates and equal distances everywhere.</summary>
    internal static List<float[]> Grid(Random random, int n, int d) =>
        Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)random.Next(4)).ToArray()).ToList();

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>The algorithm written out over a full distance matrix in double precision.</summary>
    private static int[] DoubleReferenceGreedy(double[,] points, int count, int[] starts)
    {
        int n = points.GetLength(0);
        var distance = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) distance[i, j] = Math.Sqrt(SquaredDistance(points, i, points, j));
        var nearest = Enumerable.Range(0, n).Select(i => starts.Average(s => distance[i, s])).ToArray();
        var picked = new List<int>();
        for (int step = 0; step < count; step++)
        {
            int best = 0;
            for (int i = 1; i < n; i++) if (nearest[i] > nearest[best]) best = i;
            picked.Add(best);
            for (int i = 0; i < n; i++) nearest[i] = Math.Min(nearest[i], distance[i, best]);
        }
        return picked.ToArray();
    }

    private static double CoverageRadius(double[,] points, IEnumerable<int> centres)
    {
        var c = centres.ToArray();
        return Enumerable.Range(0, points.GetLength(0)).Max(i => c.Min(j => Math.Sqrt(SquaredDistance(points, i, points, j))));
    }
}
