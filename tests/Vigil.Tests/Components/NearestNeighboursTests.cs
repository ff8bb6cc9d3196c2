using TorchSharp;
using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class NearestNeighboursTests
{
    [Theory]
    [InlineData(1, 128)]   // 1000 bank rows: 7 full blocks and a partial one
    [InlineData(5, 128)]
    [InlineData(5, 333)]   // k-best merged across unevenly sized blocks
    [InlineData(3, 4096)]  // one block larger than the bank
    public void MatchesBruteForceOnRandomData(int k, int blockSize)
    {
        var random = new Random(7);
        double[,] q = RandomMatrix(random, 37, 16), b = RandomMatrix(random, 1000, 16);
        using var scope = NewDisposeScope();
        var (distances, indices) = NearestNeighbours.Search(ToTensor(q), ToTensor(b), k, blockSize);
        Assert.Equal(new long[] { 37, k }, distances.shape);
        float[] d = distances.data<float>().ToArray();
        long[] idx = indices.data<long>().ToArray();
        for (int i = 0; i < 37; i++)
        {
            var exact = Enumerable.Range(0, 1000).Select(j => SquaredDistance(q, i, b, j)).OrderBy(v => v).Take(k).ToArray();
            for (int r = 0; r < k; r++)
            {
                Assert.Equal(exact[r], d[i * k + r], 3);
                // The returned row really lies at that rank's distance (ties may swap equal rows, not distances).
                Assert.Equal(exact[r], SquaredDistance(q, i, b, (int)idx[i * k + r]), 3);
            }
            Assert.Equal(k, idx.Skip(i * k).Take(k).Distinct().Count());
        }
    }

    [Fact]
    public void FindsExactCopiesAtDistanceZeroAndCapsKAtBankSize()
    {
        var random = new Random(3);
        var b = RandomMatrix(random, 10, 4);
        using var scope = NewDisposeScope();
        var bank = ToTensor(b);
        var (distances, indices) = NearestNeighbours.Search(bank, bank, 50, blockSize: 3);
        Assert.Equal(new long[] { 10, 10 }, distances.shape);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), indices.select(1, 0).data<long>().ToArray());
        Assert.All(distances.select(1, 0).data<float>().ToArray(), v => Assert.True(v < 1e-4));
    }

    internal static double[,] RandomMatrix(Random random, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = random.NextDouble() * 2 - 1;
        return m;
    }

    internal static Tensor ToTensor(double[,] m)
    {
        int rows = m.GetLength(0), cols = m.GetLength(1);
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) data[i * cols + j] = (float)m[i, j];
        return tensor(data, rows, cols);
    }

    internal static double SquaredDistance(double[,] a, int i, double[,] b, int j)
    {
        double sum = 0;
        for (int c = 0; c < a.GetLength(1); c++) sum += (a[i, c] - b[j, c]) * (a[i, c] - b[j, c]);
        return sum;
    }
}
