using FsCheck.Xunit;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Tests.Metrics;

/// <summary>Properties over FsCheck-generated inputs. Integer scores in a small range give many ties.</summary>
public class MetricPropertyTests
{
    /// <summary>Scores from the generated ints (|s| ≤ 50, so plenty of ties); labels forced to hold both classes.</summary>
    private static (float[] Scores, bool[] Labels) Sample(int[] raw, bool[] rawLabels)
    {
        int n = Math.Max(2, raw.Length);
        var scores = new float[n];
        var labels = new bool[n];
        for (int i = 0; i < n; i++)
        {
            scores[i] = i < raw.Length ? raw[i] % 51 : 0;
            labels[i] = rawLabels.Length > 0 && rawLabels[i % rawLabels.Length];
        }
        labels[0] = true;
        labels[1] = false;
        return (scores, labels);
    }

    [Property]
    public bool AurocIsInvariantUnderMonotoneTransforms(int[] raw, bool[] rawLabels)
    {
        var (s, l) = Sample(raw, rawLabels);
        double auroc = ImageScores.Auroc(s, l);
        return auroc == ImageScores.Auroc(s.Select(v => 3 * v + 7).ToArray(), l)
            && auroc == ImageScores.Auroc(s.Select(v => MathF.Exp(v / 10)).ToArray(), l);
    }

    [Property]
    public bool AurocOfNegatedScoresIsOneMinusAuroc(int[] raw, bool[] rawLabels)
    {
        // Holds with ties too: a tie counts one half either way.
        var (s, l) = Sample(raw, rawLabels);
        return Math.Abs(ImageScores.Auroc(s.Select(v => -v).ToArray(), l) - (1 - ImageScores.Auroc(s, l))) < 1e-12;
    }

    [Property]
    public bool AurocEqualsTheMannWhitneyPairCount(int[] raw, bool[] rawLabels)
    {
        // Independent formula: P(score+ > score−) + ½ P(tie), counted over all pairs.
        var (s, l) = Sample(raw, rawLabels);
        double pairs = 0, wins = 0;
        for (int i = 0; i < s.Length; i++)
            for (int j = 0; j < s.Length; j++)
                if (l[i] && !l[j]) { pairs++; wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
        return Math.Abs(ImageScores.Auroc(s, l) - wins / pairs) < 1e-12;
    }

    [Property]
    public bool PerfectRankingHasApAurocAndF1OfOne(int[] raw, bool[] rawLabels)
    {
        var (s, l) = Sample(raw, rawLabels);
        var perfect = s.Select((v, i) => l[i] ? 1000 + Math.Abs(v) : -1000 - Math.Abs(v)).ToArray();
        return ImageScores.AveragePrecision(perfect, l) == 1.0
            && ImageScores.Auroc(perfect, l) == 1.0
            && ImageScores.F1Max(perfect, l).F1 == 1.0;
    }

    [Property(MaxTest = 50)]
    public bool AuProLiesInTheUnitIntervalAndGrowsWithTheLimitForAPerfectMap(int seed, bool quantise)
    {
        var rng = new Random(seed);
        var maps = new List<ScoreMap>();
        var masks = new List<BinaryMask>();
        for (int k = 0; k < 3; k++)
        {
            var mask = new BinaryMask(6, 7, Enumerable.Range(0, 42).Select(_ => rng.NextDouble() < 0.2).ToArray());
            mask.Data[k] = true;
            mask.Data[41 - k] = false;
            masks.Add(mask);
            maps.Add(new ScoreMap(6, 7, Enumerable.Range(0, 42).Select(_ => quantise ? rng.Next(4) : (float)rng.NextDouble()).ToArray()));
        }
        var pixels = new PixelScores(maps, masks);
        var perfect = new PixelScores(masks.Select(m => new ScoreMap(6, 7, m.Data.Select(d => d ? 1f : 0f).ToArray())).ToList(), masks);
        return new[] { 0.01, 0.05, 0.3, 1.0 }.All(limit =>
        {
            double a = pixels.AuPro(limit);
            return a >= 0 && a <= 1 && Math.Abs(perfect.AuPro(limit) - 1) < 1e-12;
        });
    }
}
