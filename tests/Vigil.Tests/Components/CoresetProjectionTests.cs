using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

/// <summary>
/// The coreset's projection against its definition (a U(±1/√D) matrix drawn first from the seeded generator, rows
/// multiplied in fixed blocks, start points drawn afterwards), whatever batches the rows arrive in.
/// </summary>
public class CoresetProjectionTests
{
    [Fact]
    public void RowsInAnyBatchesGiveTheDefinitionsBits()
    {
        const int d = 64, target = 24, seed = 9;
        int[] batches = [1, 4094, 3, 5000, 2, 4096, 700]; // crosses block boundaries inside and between batches
        int n = batches.Sum();
        using var scope = NewDisposeScope();
        var rows = randn(new long[] { n, d }, generator: new TorchSharp.torch.Generator(1));
        using var projection = new CoresetProjection(d, target, seed, n);
        long start = 0;
        foreach (int b in batches)
        {
            projection.Add(rows.narrow(0, start, b));
            start += b;
        }

        var generator = new TorchSharp.torch.Generator(seed);
        double bound = 1 / Math.Sqrt(d);
        var matrix = rand(new long[] { d, target }, generator: generator) * (2 * bound) - bound;
        var expected = cat(Enumerable.Range(0, (n + CoresetProjection.BlockRows - 1) / CoresetProjection.BlockRows)
            .Select(k => rows.narrow(0, k * CoresetProjection.BlockRows, Math.Min(CoresetProjection.BlockRows, n - k * CoresetProjection.BlockRows)).matmul(matrix))
            .ToList(), 0);
        var projected = projection.Projected;
        var values = expected.data<float>().ToArray();
        for (int i = 0; i < n; i++)
            Assert.Equal(values.AsSpan(i * target, target).ToArray(), projected.Row(i)[..target].ToArray());
        Assert.Equal(randperm(n, generator: generator).narrow(0, 0, 10).data<long>().Select(v => (int)v), projection.StartPoints(n, 10));
    }

    [Fact]
    public void RowsOfTheTargetDimensionAreCopiedAndNothingIsDrawnForThem()
    {
        using var scope = NewDisposeScope();
        var rows = randn(new long[] { 50, 8 }, generator: new TorchSharp.torch.Generator(2));
        using var projection = new CoresetProjection(8, 8, seed: 4, rows: 50);
        projection.Add(rows);
        var values = rows.data<float>().ToArray();
        for (int i = 0; i < 50; i++) Assert.Equal(values.AsSpan(i * 8, 8).ToArray(), projection.Projected.Row(i)[..8].ToArray());
        Assert.Equal(randperm(50, generator: new TorchSharp.torch.Generator(4)).narrow(0, 0, 5).data<long>().Select(v => (int)v), projection.StartPoints(50, 5));
    }

    [Fact]
    public void TooManyRowsOrReadingBeforeAllArriveIsRefused()
    {
        using var scope = NewDisposeScope();
        using var projection = new CoresetProjection(4, 2, seed: 0, rows: 5);
        projection.Add(ones(3, 4));
        Assert.Throws<InvalidOperationException>(() => projection.Projected);
        Assert.Throws<InvalidOperationException>(() => projection.Add(ones(3, 4)));
    }
}
