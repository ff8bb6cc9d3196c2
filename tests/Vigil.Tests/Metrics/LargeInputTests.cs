using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Tests.Metrics;

/// <summary>Inputs above 2^20 pixels take the multi-threaded sort path; checked against the rank-sum formula.</summary>
public class LargeInputTests
{
    [Fact]
    public void PixelAurocOfMoreThanAMillionTiedPixelsMatchesTheRankSumFormula()
    {
        var rng = new Random(11);
        const int h = 1100, w = 1000;
        var scores = new float[h * w];
        var mask = new BinaryMask(h, w);
        for (int i = 0; i < scores.Length; i++)
        {
            mask.Data[i] = rng.NextDouble() < 0.1;
            scores[i] = MathF.Round(rng.NextSingle() * 1000 + (mask.Data[i] ? 150 : 0)) - 500; // ties, both signs
        }
        double actual = new PixelScores([new ScoreMap(h, w, scores)], [mask]).Auroc();

        // Mann–Whitney U with mid-ranks: AUROC = (R+ − P(P+1)/2) / (P·N).
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var sortedScores = (float[])scores.Clone();
        Array.Sort(sortedScores, order);
        double rankSum = 0;
        long positives = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j < order.Length && sortedScores[j] == sortedScores[i]) j++;
            double midRank = (i + 1 + j) / 2.0;
            for (int k = i; k < j; k++)
                if (mask.Data[order[k]]) { rankSum += midRank; positives++; }
            i = j;
        }
        long negatives = scores.Length - positives;
        double expected = (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
        Assert.Equal(expected, actual, 10);
    }
}
