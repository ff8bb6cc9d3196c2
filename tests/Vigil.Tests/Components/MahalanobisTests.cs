using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class MahalanobisTests
{
    [Fact]
    public void MatchesHandComputedTwoDimensionalCase()
    {
        // Position 0: uncorrelated square; position 1: correlated points. Four samples each.
        double[][] p0 = [[0, 0], [2, 0], [0, 2], [2, 2]];
        double[][] p1 = [[0, 0], [1, 2], [2, 1], [3, 3]];
        var data = new float[4 * 2 * 2];
        for (int n = 0; n < 4; n++)
        {
            data[n * 4 + 0] = (float)p0[n][0]; data[n * 4 + 1] = (float)p0[n][1];
            data[n * 4 + 2] = (float)p1[n][0]; data[n * 4 + 3] = (float)p1[n][1];
        }
        using var scope = NewDisposeScope();
        var (mean, inverse) = Mahalanobis.Fit(tensor(data, 4, 2, 2), 0.01);
        var query = tensor(new float[] { 3, 1, 0, 3 }, 1, 2, 2);
        var distances = Mahalanobis.Distances(query, mean, inverse).data<float>().ToArray();

        Assert.Equal(HandDistance(p0, [3, 1]), distances[0], 4);
        Assert.Equal(HandDistance(p1, [0, 3]), distances[1], 4);
        // Position 0 by hand: mean (1,1), variances 4/3 (+0.01), no covariance; x − μ = (2, 0).
        Assert.Equal(Math.Sqrt(4 / (4.0 / 3 + 0.01)), distances[0], 4);
    }

    /// <summary>√(dᵀ Σ⁻¹ d) with the unbiased 2×2 covariance + 0.01·I inverted by the adjugate formula.</summary>
    private static double HandDistance(double[][] samples, double[] x)
    {
        int n = samples.Length;
        double mx = samples.Average(s => s[0]), my = samples.Average(s => s[1]);
        double a = samples.Sum(s => (s[0] - mx) * (s[0] - mx)) / (n - 1) + 0.01;
        double d = samples.Sum(s => (s[1] - my) * (s[1] - my)) / (n - 1) + 0.01;
        double b = samples.Sum(s => (s[0] - mx) * (s[1] - my)) / (n - 1);
        double det = a * d - b * b;
        double dx = x[0] - mx, dy = x[1] - my;
        return Math.Sqrt((d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det);
    }
}
