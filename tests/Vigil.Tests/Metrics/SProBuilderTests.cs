using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

public class SProBuilderTests
{
    private static readonly LocoDefectConfig WholeArea = new("missing", 255, 1.0, true);

    /// <summary>
    /// A tie across two images' runs: anomalous 1x2 (channel {0}) scores [0.5, 0.2], good 1x2 scores [0.5, 0.1]; 3
    /// normal pixels. Points (0,0) → 0.5: (1/3, 1) → 0.2: (2/3, 1) → 0.1: (1, 1). AUC to 1 = ½·⅓ + ⅔ = 5/6; to 0.3 the
    /// y at 0.3 is 0.9: ½·0.9·0.3 / 0.3 = 0.45. Splitting the tie (the channel pixel first) would give 1 and 1.
    /// </summary>
    [Fact]
    public void TiesAcrossImagesAreOneThresholdByHand()
    {
        using var builder = new SProBuilder();
        builder.Add(new ScoreMap(1, 2, [0.5f, 0.2f]), new LocoGroundTruth(1, 2, [new(Mask(1, 2, 0), WholeArea)]), 1);
        builder.Add(new ScoreMap(1, 2, [0.5f, 0.1f]), LocoGroundTruth.Good(1, 2), 1);
        var result = builder.Compute(fprLimits: [0.3, 1.0])[0];
        Assert.Equal(5.0 / 6, result.AucSpro[1.0], 12);
        Assert.Equal(0.45, result.AucSpro[0.3], 12);
    }

    /// <summary>
    /// Random test sets (overlapping channels with absolute and relative saturation, good images, scores on a coarse
    /// grid so many tie, maps at half the ground truth's size for some images, images in several or no groups):
    /// the streamed sPRO of every group equals a brute-force evaluation of the definition, threshold by threshold.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EqualsTheDefinitionOnRandomTestSets(int seed)
    {
        var random = new Random(seed);
        const int images = 7, groupCount = 3, h = 12, w = 10;
        double[] limits = [0.01, 0.05, 0.1, 0.3, 1.0];
        var defects = new[] { WholeArea, new LocoDefectConfig("half", 1, 0.5, true), new LocoDefectConfig("abs", 2, 7, false) };
        var maps = new ScoreMap[images];
        var truths = new LocoGroundTruth[images];
        var membership = new uint[images];
        for (int i = 0; i < images; i++)
        {
            var channels = new List<LocoDefectChannel>();
            int count = i % 3 == 0 ? 0 : random.Next(1, 4); // every third image is good
            for (int c = 0; c < count; c++)
            {
                var mask = new BinaryMask(h, w);
                int y0 = random.Next(h - 3), x0 = random.Next(w - 3), y1 = y0 + random.Next(2, 6), x1 = x0 + random.Next(2, 6);
                for (int y = y0; y < Math.Min(y1, h); y++)
                    for (int x = x0; x < Math.Min(x1, w); x++) mask.Data[y * w + x] = true;
                channels.Add(new LocoDefectChannel(mask, defects[random.Next(defects.Length)]));
            }
            truths[i] = new LocoGroundTruth(h, w, channels);
            var (mh, mw) = i % 2 == 1 ? (h / 2, w / 2) : (h, w);
            maps[i] = new ScoreMap(mh, mw, Enumerable.Range(0, mh * mw).Select(_ => random.Next(12) / 4f).ToArray());
            membership[i] = (uint)random.Next(1 << groupCount);
        }
        membership[0] |= 0b111; // every group has a good image and an anomalous one
        membership[1] |= 0b111;

        using var builder = new SProBuilder(groupCount);
        for (int i = 0; i < images; i++) builder.Add(maps[i], truths[i], membership[i]);
        var streamed = builder.Compute(fprLimits: limits);
        for (int g = 0; g < groupCount; g++)
        {
            var members = Enumerable.Range(0, images).Where(i => (membership[i] >> g & 1) != 0).ToArray();
            var expected = BruteForce(members.Select(i => maps[i]).ToArray(), members.Select(i => truths[i]).ToArray(), limits);
            foreach (double limit in limits) Assert.Equal(expected[limit], streamed[g].AucSpro[limit], 12);
        }
        var subset = builder.Compute([2], limits); // one group alone gives the same numbers
        foreach (double limit in limits) Assert.Equal(streamed[2].AucSpro[limit], subset[0].AucSpro[limit], 12);
    }

    [Fact]
    public void RefusesUndefinedGroupsAndUnknownGroupBits()
    {
        using var builder = new SProBuilder(2);
        builder.Add(new ScoreMap(1, 2, [0.5f, 0.2f]), new LocoGroundTruth(1, 2, [new(Mask(1, 2, 0), WholeArea)]), 1);
        builder.Add(new ScoreMap(1, 2, [0.5f, 0.1f]), LocoGroundTruth.Good(1, 2), 0b11);
        Assert.Contains("group 1", Assert.Throws<VigilInputException>(() => builder.Compute()).Message);
        Assert.Single(builder.Compute([0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add(new ScoreMap(1, 2, [0f, 0f]), LocoGroundTruth.Good(1, 2), 0b100));
    }

    /// <summary>
    /// The definition read literally: a threshold at every distinct score, positive = score ≥ it; per channel
    /// min(TP / saturation, 1), y = their mean, x = FPR over the pixels outside every channel; trapezoids from (0, 0),
    /// y interpolated at the limit, area / limit.
    /// </summary>
    private static Dictionary<double, double> BruteForce(ScoreMap[] maps, LocoGroundTruth[] truths, double[] limits)
    {
        var scores = maps.Select((m, i) => m.Height == truths[i].Height && m.Width == truths[i].Width ? m.Data : m.Resize(truths[i].Height, truths[i].Width).Data).ToArray();
        var channels = truths.SelectMany((t, i) => t.Channels.Select(c => (Image: i, c.Mask, Saturation: c.Defect.SaturationArea(c.Mask.CountDefective())))).ToArray();
        bool Normal(int i, int p) => truths[i].Channels.All(c => !c.Mask.Data[p]);
        long normal = Enumerable.Range(0, maps.Length).Sum(i => (long)Enumerable.Range(0, scores[i].Length).Count(p => Normal(i, p)));
        var points = new List<(double X, double Y)> { (0, 0) };
        foreach (float t in scores.SelectMany(s => s).Distinct().OrderDescending())
        {
            long fp = Enumerable.Range(0, maps.Length).Sum(i => (long)Enumerable.Range(0, scores[i].Length).Count(p => scores[i][p] >= t && Normal(i, p)));
            double y = channels.Average(c => Math.Min((double)Enumerable.Range(0, scores[c.Image].Length).Count(p => c.Mask.Data[p] && scores[c.Image][p] >= t) / c.Saturation, 1.0));
            points.Add(((double)fp / normal, y));
        }
        var result = new Dictionary<double, double>();
        foreach (double limit in limits)
        {
            double area = 0;
            for (int k = 1; k < points.Count && points[k - 1].X < limit; k++)
            {
                var (a, b) = (points[k - 1], points[k]);
                if (b.X > limit) b = (limit, a.Y + (b.Y - a.Y) * (limit - a.X) / (b.X - a.X));
                area += 0.5 * (a.Y + b.Y) * (b.X - a.X);
            }
            result[limit] = area / limit;
        }
        return result;
    }
}
