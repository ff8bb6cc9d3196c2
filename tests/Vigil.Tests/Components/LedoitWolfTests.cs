using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class LedoitWolfTests
{
    [Fact]
    public void MatchesHandComputedShrinkageAndMahalanobisDistance()
    {
        // Points (±2, 0), (0, ±1): mean 0, S = diag(2, 0.5), μ = tr(S)/2 = 1.25. By hand (sklearn's formula):
        // β = (Σ‖x‖⁴/n − ‖S‖²)/(d·n) = (34/4 − 4.25)/8 = 0.53125, δ = ‖S − μI‖²/d = (0.75² + 0.75²)/2 = 0.5625,
        // shrinkage = 0.53125/0.5625 = 17/18, Σ = S/18 + (17/18)·1.25·I = diag(23.25, 21.75)/18.
        using var scope = NewDisposeScope();
        var (mean, covariance, precision) = LedoitWolf.Fit(tensor(new float[] { 2, 0, -2, 0, 0, 1, 0, -1 }, 4, 2));
        Assert.Equal([0f, 0f], mean.data<float>().ToArray());
        var expected = new[] { 23.25 / 18, 0, 0, 21.75 / 18 };
        var actual = covariance.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 5);
        // x = (1, 1): √(18/23.25 + 18/21.75) = 1.2656144.
        var distance = Mahalanobis.Distances(tensor(new float[] { 1, 1 }, 1, 1, 2), mean.unsqueeze(0), precision.unsqueeze(0));
        Assert.Equal(1.2656144, distance.item<float>(), 5);
    }

    [Fact]
    public void AnIsotropicSampleIsNotShrunk()
    {
        // (±1, 0), (0, ±1): S = 0.5·I is already μ·I, so δ = 0 and the shrinkage is 0; the precision is 2·I.
        using var scope = NewDisposeScope();
        var (_, covariance, precision) = LedoitWolf.Fit(tensor(new float[] { 1, 0, -1, 0, 0, 1, 0, -1 }, 4, 2));
        Assert.Equal([0.5f, 0, 0, 0.5f], covariance.data<float>().ToArray());
        Assert.Equal([2f, 0, 0, 2f], precision.data<float>().ToArray());
    }

    [Fact]
    public void MatchesTheOuterProductFormOfTheLedoitWolfEstimator()
    {
        // Ledoit and Wolf (2004), lemma 3.2–3.4 with sklearn's 1/d norm: b̄² = Σₖ‖xₖxₖᵀ − S‖²/(n²d), d² = ‖S − μI‖²/d,
        // shrinkage = min(b̄², d²)/d², computed here with loops over outer products instead of sklearn's sums of squares.
        double[][] x = [[0.3, -1.2, 2.0], [1.1, 0.4, -0.5], [-0.7, 0.9, 0.2], [2.2, -0.3, 1.4], [0.1, 1.8, -1.1]];
        int n = x.Length, d = 3;
        var mean = Enumerable.Range(0, d).Select(j => x.Average(r => r[j])).ToArray();
        var c = x.Select(r => r.Select((v, j) => v - mean[j]).ToArray()).ToArray();
        var s = new double[d, d];
        foreach (var r in c)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) s[i, j] += r[i] * r[j] / n;
        double mu = Enumerable.Range(0, d).Sum(i => s[i, i]) / d;
        double b2 = 0, d2 = 0;
        foreach (var r in c)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) b2 += Math.Pow(r[i] * r[j] - s[i, j], 2) / ((double)n * n * d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) d2 += Math.Pow(s[i, j] - (i == j ? mu : 0), 2) / d;
        double shrinkage = Math.Min(b2, d2) / d2;

        using var scope = NewDisposeScope();
        var (_, covariance, _) = LedoitWolf.Fit(tensor(x.SelectMany(r => r.Select(v => (float)v)).ToArray(), n, d));
        var actual = covariance.data<float>().ToArray();
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                Assert.Equal((1 - shrinkage) * s[i, j] + (i == j ? shrinkage * mu : 0), actual[i * d + j], 5);
    }
}
