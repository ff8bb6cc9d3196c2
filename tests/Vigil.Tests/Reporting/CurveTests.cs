using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Reporting;

namespace Vigil.Tests.Reporting;

/// <summary>
/// The curves the report plots are the curves the metrics integrate: image ROC by hand and against AUROC, PR steps
/// against AP, and the thinned pixel ROC and PRO curves against pixel AUROC and AU-PRO.
/// </summary>
public class CurveTests
{
    /// <summary>Trapezoid area under a polyline, written out here independently of the metric code.</summary>
    internal static double Trapezoid(Curve c)
    {
        double area = 0;
        for (int i = 1; i < c.X.Count; i++) area += 0.5 * (c.Y[i] + c.Y[i - 1]) * (c.X[i] - c.X[i - 1]);
        return area;
    }

    [Fact]
    public void ImageRocCurveOfAHandWorkedCase()
    {
        // Thresholds 0.9, 0.8 (tie of an anomaly and a good image), 0.3: P = 2, N = 2.
        float[] scores = [0.9f, 0.8f, 0.8f, 0.3f];
        bool[] labels = [true, false, true, false];
        var roc = ImageScores.RocCurve(scores, labels);
        Assert.Equal([0, 0, 0.5, 1], roc.X);
        Assert.Equal([0, 0.5, 1, 1], roc.Y);
        Assert.Equal(0.875, Trapezoid(roc), 12); // pairs ranked right: 3 of 4, the tie counts ½

        var pr = ImageScores.PrecisionRecallCurve(scores, labels); // ends at full recall: threshold 0.3 adds only a good image
        Assert.Equal([0.5, 1], pr.X);
        Assert.Equal([1, 2 / 3.0], pr.Y);
    }

    [Theory]
    [InlineData(1, 40, 1000)]   // continuous scores
    [InlineData(2, 200, 7)]     // heavy ties
    public void ImageRocAreaEqualsAurocAndPrStepsEqualAveragePrecision(int seed, int count, int levels)
    {
        var random = new Random(seed);
        var labels = Enumerable.Range(0, count).Select(_ => random.NextDouble() < 0.4).ToArray();
        var scores = labels.Select(l => (float)Math.Round((random.NextDouble() + (l ? 0.4 : 0)) * levels) / levels).ToArray();

        var roc = ImageScores.RocCurve(scores, labels);
        Assert.Equal(ImageScores.Auroc(scores, labels), Trapezoid(roc), 12);
        Assert.Equal((1.0, 1.0), (roc.X[^1], roc.Y[^1]));

        var pr = ImageScores.PrecisionRecallCurve(scores, labels);
        double ap = 0, previousRecall = 0;
        for (int k = 0; k < pr.X.Count; k++) { ap += (pr.X[k] - previousRecall) * pr.Y[k]; previousRecall = pr.X[k]; }
        Assert.Equal(ImageScores.AveragePrecision(scores, labels), ap, 12);
        // The plotted step function has exactly that area.
        Assert.Equal(ImageScores.AveragePrecision(scores, labels), Trapezoid(HtmlReport.StepwisePrecisionRecall(pr)), 12);
    }

    [Theory]
    [InlineData(3, 0.3)]
    [InlineData(4, 0.05)]
    [InlineData(5, 1.0)]
    public void PixelCurvesMatchPixelAurocAndAuPro(int seed, double limit)
    {
        var (maps, masks) = RandomMapsWithDefects(seed);
        var pixels = new PixelScores(maps, masks);

        var exactRoc = pixels.RocCurve(step: 0);
        Assert.Equal(pixels.Auroc(), Trapezoid(exactRoc), 12);
        var roc = pixels.RocCurve();
        Assert.InRange(roc.X.Count, 50, 4 / Curve.DefaultStep + 2);
        Assert.True(Math.Abs(pixels.Auroc() - Trapezoid(roc)) <= 1e-3, $"AUROC {pixels.Auroc()} vs thinned curve {Trapezoid(roc)}");
        Assert.Equal((1.0, 1.0), (roc.X[^1], roc.Y[^1]));

        var exactPro = pixels.ProCurve(limit, step: 0);
        Assert.Equal(pixels.AuPro(limit), Trapezoid(exactPro) / limit, 12);
        var pro = pixels.ProCurve(limit);
        Assert.InRange(pro.X.Count, 10, 2 * (limit + 1) / Curve.DefaultStep + 2);
        Assert.True(Math.Abs(pixels.AuPro(limit) - Trapezoid(pro) / limit) <= 1e-3,
            $"AU-PRO {pixels.AuPro(limit)} vs thinned curve {Trapezoid(pro) / limit}");
        Assert.Equal(limit, pro.X[^1], 12);
        for (int i = 1; i < pro.X.Count; i++) Assert.True(pro.X[i] >= pro.X[i - 1] && pro.Y[i] >= pro.Y[i - 1] - 1e-12);
    }

    /// <summary>Maps that score defects higher on average, masks with one or two rectangular defects per anomalous image.</summary>
    private static (ScoreMap[] Maps, BinaryMask[] Masks) RandomMapsWithDefects(int seed)
    {
        var random = new Random(seed);
        const int n = 10, h = 40, w = 48;
        var maps = new ScoreMap[n];
        var masks = new BinaryMask[n];
        for (int i = 0; i < n; i++)
        {
            var mask = new BinaryMask(h, w);
            if (i % 2 == 1)
                for (int d = 0; d < 1 + i % 3 / 2 + 1; d++)
                {
                    int y0 = random.Next(h - 8), x0 = random.Next(w - 10), dh = 2 + random.Next(6), dw = 2 + random.Next(8);
                    for (int y = y0; y < y0 + dh; y++)
                        for (int x = x0; x < x0 + dw; x++) mask[y, x] = true;
                }
            var map = new ScoreMap(h, w);
            for (int p = 0; p < map.Data.Length; p++) map.Data[p] = (float)(random.NextDouble() + (mask.Data[p] ? 0.6 * random.NextDouble() : 0));
            (maps[i], masks[i]) = (map, mask);
        }
        return (maps, masks);
    }
}
