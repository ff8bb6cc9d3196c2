using Vigil.Building;
using static TorchSharp.torch;
using static Vigil.Tests.Building.NearestNeighboursTests;

namespace Vigil.Tests.Building;

public class KCenterGreedyTests
{
    [Fact]
    public void PicksTheSamePointsAsAStraightforwardQuadraticReference()
    {
        var points = RandomMatrix(new Random(11), 80, 5);
        int[] starts = [3, 17, 42];
        using var scope = NewDisposeScope();
        var picked = KCenterGreedy.Select(ToTensor(points), 20, starts);
        Assert.Equal(ReferenceGreedy(points, 20, starts), picked);
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

    /// <summary>The algorithm written out over a full distance matrix in double precision.</summary>
    private static int[] ReferenceGreedy(double[,] points, int count, int[] starts)
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
