using Vigil.Components;
using static TorchSharp.torch;
using static Vigil.Tests.Components.KCenterGreedyTests;

namespace Vigil.Tests.Components;

public class NearestNeighbourIndexTests
{
    [Theory]
    [InlineData(1, 3000, 96, 16, true)]   // strong spectral decay, as CNN features: screening prunes most rows
    [InlineData(2, 2000, 40, 8, false)]   // isotropic: screening prunes little but must stay exact
    [InlineData(3, 500, 20, 64, true)]    // screen dimension above D: capped, bounds become exact
    public void FindsTheBruteForceNearestRow(int seed, int n, int d, int screen, bool lowRank)
    {
        var random = new Random(seed);
        var bank = lowRank ? LowRank(random, n, d) : Uniform(random, n, d);
        // Queries: fresh points, exact copies of bank rows, and points halfway between two rows.
        var queries = (lowRank ? LowRank(random, 150, d) : Uniform(random, 150, d))
            .Concat(Enumerable.Range(0, 30).Select(_ => bank[random.Next(n)]))
            .Concat(Enumerable.Range(0, 30).Select(_ => { var (a, b) = (bank[random.Next(n)], bank[random.Next(n)]); return a.Select((v, i) => (v + b[i]) / 2).ToArray(); }))
            .ToList();
        using var scope = NewDisposeScope();
        using var index = NearestNeighbourIndex.Build(Rows(bank), screen);
        var (distances, indices) = index.Search(Rows(queries));
        float[] dist = distances.data<float>().ToArray();
        long[] idx = indices.data<long>().ToArray();
        for (int q = 0; q < queries.Count; q++)
        {
            var exact = bank.Select(b => Squared(queries[q], b)).ToArray();
            double best = exact.Min();
            double tolerance = 1e-5 * (1 + best);
            Assert.True(exact[idx[q]] <= best + tolerance, $"query {q}: row {idx[q]} at {exact[idx[q]]}, nearest at {best}");
            Assert.Equal(best, dist[q], tolerance * 10);
        }
    }

    [Fact]
    public void TiesKeepTheLowestRowIndex()
    {
        var random = new Random(4);
        var bank = LowRank(random, 400, 24);
        bank[310] = bank[37];
        bank[120] = bank[37];
        using var scope = NewDisposeScope();
        using var index = NearestNeighbourIndex.Build(Rows(bank), 8);
        var (distances, indices) = index.Search(Rows([bank[310], bank[5]]));
        Assert.Equal(new long[] { 37, 5 }, indices.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0 }, distances.data<float>().ToArray());
    }

    /// <summary>
    /// Isotropic rows spread their variance over every axis, where the screen keeps many rows. The first query block is
    /// answered both ways (the index times them), its final answer by the all-coordinate product, the rest by the faster:
    /// every answer must be the lowest-index minimum of the exact distances, bit for bit.
    /// </summary>
    [Fact]
    public void WithoutAUsefulScreenTheAnswerIsStillTheExactMinimum()
    {
        var random = new Random(6);
        var bank = Uniform(random, 700, 48);
        bank[650] = bank[12]; // a tie, to be resolved to the lower row
        var queries = Uniform(random, 300, 48).Append(bank[650]).ToList();
        using var scope = NewDisposeScope();
        using var index = NearestNeighbourIndex.Build(Rows(bank), 4);
        var idx = AssertLowestIndexExactMinimum(index, bank, queries);
        Assert.Equal(12, idx[^1]);
    }

    /// <summary>A screen fixed at build gives what the timed choice gives: the lowest-index exact minimum, bit for bit.</summary>
    [Theory]
    [InlineData(NearestNeighbourScreen.Timed)]
    [InlineData(NearestNeighbourScreen.PrincipalAxes)]
    [InlineData(NearestNeighbourScreen.PrincipalAxesBFloat16)]
    [InlineData(NearestNeighbourScreen.FullProduct)]
    public void EveryScreenGivesTheExactMinimum(NearestNeighbourScreen screen)
    {
        var random = new Random(7);
        var bank = LowRank(random, 900, 40);
        bank[801] = bank[33];
        var queries = LowRank(random, 600, 40).Append(bank[801]).ToList(); // more than one query block
        using var scope = NewDisposeScope();
        using var index = NearestNeighbourIndex.Build(Rows(bank), 8, screen);
        var idx = AssertLowestIndexExactMinimum(index, bank, queries);
        Assert.Equal(33, idx[^1]);
        Assert.NotEqual("not yet timed", index.ScreenInUse);
    }

    /// <summary>
    /// Two tight clusters far from the bank's mean: the screen's products are ~2e5 and bfloat16 rounds them by hundreds,
    /// while neighbouring rows are ~1e-3 apart. Only bounds lowered by the full rounding keep the nearest row.
    /// </summary>
    [Fact]
    public void TheBFloat16ScreenStaysExactWhenItsRoundingDwarfsTheGapsBetweenRows()
    {
        var random = new Random(8);
        const int d = 24;
        List<float[]> Cluster(int count, float centre) =>
            Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, d).Select(_ => centre + (float)(0.01 * random.NextDouble())).ToArray()).ToList();
        var bank = Cluster(400, 100).Concat(Cluster(400, -100)).ToList();
        var queries = Cluster(150, 100).Concat(Cluster(150, -100)).ToList();
        using var scope = NewDisposeScope();
        using var index = NearestNeighbourIndex.Build(Rows(bank), 8, NearestNeighbourScreen.PrincipalAxesBFloat16);
        AssertLowestIndexExactMinimum(index, bank, queries);
    }

    /// <summary>Every answer is the lowest-index minimum of the directly computed distances, bit for bit; returns the indices.</summary>
    private static long[] AssertLowestIndexExactMinimum(NearestNeighbourIndex index, List<float[]> bank, List<float[]> queries)
    {
        var (distances, indices) = index.Search(Rows(queries));
        var rows = PaddedRows.FromTensor(Rows(bank));
        var queryRows = PaddedRows.FromTensor(Rows(queries));
        float[] dist = distances.data<float>().ToArray();
        long[] idx = indices.data<long>().ToArray();
        for (int q = 0; q < queries.Count; q++)
        {
            var exact = Enumerable.Range(0, bank.Count).Select(b => PaddedRows.SquaredDistance(queryRows.Row(q), rows.Row(b))).ToArray();
            int best = Array.IndexOf(exact, exact.Min());
            Assert.Equal(best, idx[q]);
            Assert.Equal(exact[best], dist[q]);
        }
        return idx;
    }

    private static Tensor Rows(IReadOnlyList<float[]> rows) => tensor(rows.SelectMany(r => r).ToArray(), rows.Count, rows[0].Length);

    private static double Squared(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        return sum;
    }

    /// <summary>Rows on a few strong random directions plus weak isotropic noise, offset from the origin.</summary>
    private static List<float[]> LowRank(Random random, int n, int d)
    {
        var basis = Uniform(new Random(99), 6, d);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var weights = Enumerable.Range(0, 6).Select(k => (random.NextDouble() * 2 - 1) * 8 / (k + 1)).ToArray();
            return Enumerable.Range(0, d).Select(c => (float)(5 + Enumerable.Range(0, 6).Sum(k => weights[k] * basis[k][c]) + 0.05 * (random.NextDouble() - 0.5))).ToArray();
        }).ToList();
    }
}
