using Vigil.Detectors.Cfa;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>CFA's loss, score and coordinate channels against hand computations.</summary>
public class CfaTests
{
    /// <summary>Centroids c0 (0, 0), c1 (1, 0), c2 (0, 2), c3 (3, 0).</summary>
    private static Tensor Centroids() => tensor(new[] { 0f, 0f, 1f, 0f, 0f, 2f, 3f, 0f }).reshape(4, 2);

    /// <summary>One image, two positions: f0 (0.5, 0) and f1 (2, 2).</summary>
    private static Tensor Features() => tensor(new[] { 0.5f, 0f, 2f, 2f }).reshape(1, 2, 2);

    [Fact]
    public void LossAttractsTheKNearestIntoTheSphereAndRepelsTheNextJBeyondIt()
    {
        // Squared distances, ascending: f0 → 0.25 (c0), 0.25 (c1), 4.25 (c2), 6.25; f1 → 4 (c2), 5 (c1), 5 (c3), 8.
        // K = 1, J = 2, r = 1.2 (r² = 1.44), α = 0.1, ν = 0.5.
        // Attraction over the K nearest: f0 max(0, 0.25 − 1.44) = 0, f1 max(0, 4 − 1.44) = 2.56; mean 1.28, / ν = 2.56.
        // Repulsion over the next J: f0 max(0, 1.44 − 0.25 − 0.1) = 1.09 and max(0, 1.44 − 4.25 − 0.1) = 0,
        // f1 max(0, 1.44 − 5 − 0.1) = 0 twice; mean 1.09 / 4 = 0.2725, / ν = 0.545.
        using var radius = tensor(new[] { 1.2f });
        using var loss = CfaNetwork.SoftBoundaryLoss(Features(), Centroids(), radius, k: 1, j: 2, alpha: 0.1, nu: 0.5);
        Assert.Equal(2.56 + 0.545, loss.item<float>(), 4);

        // No hard negatives: the attraction alone.
        using var attraction = CfaNetwork.SoftBoundaryLoss(Features(), Centroids(), radius, k: 1, j: 0, alpha: 0.1, nu: 0.5);
        Assert.Equal(2.56, attraction.item<float>(), 4);
    }

    [Fact]
    public void TheRadiusLearnsFromTheLoss()
    {
        // d(L)/d(r) = (−2r · [4 > r²] / 2 over the attraction's two terms + 2r · [0.25 < r² − α] / 4 over the repulsion's four) / ν
        // = (−1.2 + 0.6) / 0.5 = −1.2 at r = 1.2 (K = 1, J = 2, α = 0.1, ν = 0.5).
        using var radius = tensor(new[] { 1.2f }).requires_grad_();
        using var loss = CfaNetwork.SoftBoundaryLoss(Features(), Centroids(), radius, k: 1, j: 2, alpha: 0.1, nu: 0.5);
        loss.backward();
        Assert.Equal(-1.2, radius.grad!.item<float>(), 4);
    }

    [Fact]
    public void ScoreIsTheNearestDistanceWeightedByItsSoftminOverTheKNearest()
    {
        // K = 2. f0: distances 0.5, 0.5 → weight 1/2, score 0.25. f1: distances 2, √5 → weight e^−2 / (e^−2 + e^−√5), score 2 · weight.
        using var scores = CfaNetwork.Scores(Features(), Centroids(), k: 2);
        Assert.Equal([1, 2], scores.shape);
        Assert.Equal(0.25, scores[0, 0].item<float>(), 5);
        double weight = Math.Exp(-2) / (Math.Exp(-2) + Math.Exp(-Math.Sqrt(5)));
        Assert.Equal(2 * weight, scores[0, 1].item<float>(), 5);
    }

    [Fact]
    public void CoordinateChannelsAreTheRowThenTheColumnScaledToMinusOneOne()
    {
        using var input = full(2, 1, 3, 2, 7f);
        using var output = CfaNetwork.WithCoordinates(input);
        Assert.Equal([2, 3, 3, 2], output.shape);
        Assert.Equal(Enumerable.Repeat(7f, 6), output[1, 0].flatten().data<float>().ToArray());
        // Rows −1, 0, 1 down the 3 rows; columns −1, 1 across the 2 columns.
        Assert.Equal([-1f, -1f, 0f, 0f, 1f, 1f], output[1, 1].flatten().data<float>().ToArray());
        Assert.Equal([-1f, 1f, -1f, 1f, -1f, 1f], output[1, 2].flatten().data<float>().ToArray());
    }
}
