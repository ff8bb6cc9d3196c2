using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

/// <summary>k-means against clusters whose means are known.</summary>
public class KMeansTests
{
    [Fact]
    public void SeparatedClustersGiveTheirMeans()
    {
        // Three tight groups far apart; their means are (0, 0.5), (10, 10.5) and (−20, 1).
        using var rows = tensor(new[] { 0f, 0f, 0f, 1f, 10f, 10f, 10f, 11f, 10f, 10.5f, -20f, 1f }).reshape(6, 2);
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            using var generator = new Generator(seed);
            using var centres = KMeans.Centres(rows, 3, maxIterations: 300, tolerance: 1e-4, generator);
            var sorted = centres.data<float>().ToArray().Chunk(2).OrderBy(c => c[0]).SelectMany(c => c).ToArray();
            Assert.Equal([-20f, 1f, 0f, 0.5f, 10f, 10.5f], sorted);
        }
    }

    [Fact]
    public void AsManyCentresAsRowsAreTheRows()
    {
        using var rows = tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f }).reshape(3, 2);
        using var generator = new Generator(7);
        using var centres = KMeans.Centres(rows, 3, maxIterations: 10, tolerance: 1e-4, generator);
        var sorted = centres.data<float>().ToArray().Chunk(2).OrderBy(c => c[0]).SelectMany(c => c).ToArray();
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], sorted);
    }
}
