using Vigil.Data.Synthetic;
using Vigil.Imaging;

namespace Vigil.Tests.Data.Synthetic;

/// <summary>
/// The dataset must reward local detectors and defeat global ones: mean intensity of defective images overlaps
/// the normal range, while simple local features (which a real detector subsumes) separate them clearly.
/// </summary>
public class SyntheticSeparabilityTests
{
    private const int Size = 128, TrainCount = 30, TestGoodCount = 20, PerDefectCount = 8;

    [Fact]
    public void MannWhitneyAurocMatchesHandCount()
    {
        // Pairs (anomalous > normal): 2 > {1}, 4 > {1, 3}, 3 vs 3 ties count half → (1 + 2 + 1.5) / 6.
        Assert.Equal(4.5 / 6, Auroc([1, 3], [2, 4, 3]), 12);
    }

    [Fact]
    public void ObjectDefectsNeedLocalFeatures()
    {
        var (train, good, defective) = Render("nut");
        // Per-pixel mean/std of 2×2-pooled brightness (relative to the image's mean) and chroma over the train images.
        var trainFeatures = train.Select(PooledPixels).ToList();
        int length = trainFeatures[0].Length;
        var mean = new double[length];
        var std = new double[length];
        for (int i = 0; i < length; i++)
        {
            mean[i] = trainFeatures.Average(f => f[i]);
            std[i] = Math.Max(0.01, Math.Sqrt(trainFeatures.Average(f => (f[i] - mean[i]) * (f[i] - mean[i]))));
        }
        double LocalScore(ImageTensor image)
        {
            var f = PooledPixels(image);
            return Enumerable.Range(0, length).Max(i => Math.Abs(f[i] - mean[i]) / std[i]);
        }
        AssertLocalBeatsGlobal(good, defective, LocalScore);
    }

    [Fact]
    public void TextureDefectsNeedLocalFeatures()
    {
        var (train, good, defective) = Render("wood");
        // Patch statistics: each 8×8 block's features relative to the image's median block, z-scored over train blocks.
        var trainBlocks = train.SelectMany(BlockFeatures).ToList();
        int features = trainBlocks[0].Length;
        var mean = Enumerable.Range(0, features).Select(f => trainBlocks.Average(b => b[f])).ToArray();
        var std = Enumerable.Range(0, features).Select(f => Math.Sqrt(trainBlocks.Average(b => (b[f] - mean[f]) * (b[f] - mean[f])))).ToArray();
        double LocalScore(ImageTensor image) =>
            BlockFeatures(image).Max(b => Enumerable.Range(0, features).Max(f => Math.Abs(b[f] - mean[f]) / std[f]));
        AssertLocalBeatsGlobal(good, defective, LocalScore);
    }

    private static void AssertLocalBeatsGlobal(List<ImageTensor> good, List<ImageTensor> defective, Func<ImageTensor, double> localScore)
    {
        double globalAuroc = Auroc(good.Select(MeanIntensity).ToList(), defective.Select(MeanIntensity).ToList());
        double globalSeparation = Math.Max(globalAuroc, 1 - globalAuroc); // a threshold may point either way
        double localAuroc = Auroc(good.Select(localScore).ToList(), defective.Select(localScore).ToList());
        Assert.True(globalSeparation < 0.75, $"mean intensity separates too well: AUROC {globalSeparation:F3}");
        Assert.True(localAuroc > 0.9 && localAuroc > globalSeparation + 0.2, $"local AUROC {localAuroc:F3} vs mean-intensity {globalSeparation:F3}");
    }

    private static (List<ImageTensor> Train, List<ImageTensor> Good, List<ImageTensor> Defective) Render(string category)
    {
        // Disjoint seed ranges, as train and test images are different products.
        List<ImageTensor> Many(int count, ulong first, string defect = "good") =>
            Enumerable.Range(0, count).AsParallel().AsOrdered().Select(i => SyntheticDataset.Render(category, Size, first + (ulong)i, defect).Image).ToList();
        var defective = SyntheticDataset.DefectTypes(category).SelectMany(d => Many(PerDefectCount, 3000, d)).ToList();
        return (Many(TrainCount, 1000), Many(TestGoodCount, 2000), defective);
    }

    private static double MeanIntensity(ImageTensor image) => image.Data.Average();

    /// <summary>AUROC as the Mann–Whitney statistic: the probability that an anomalous score beats a normal one (ties ½).</summary>
    private static double Auroc(IReadOnlyList<double> normal, IReadOnlyList<double> anomalous)
    {
        double wins = 0;
        foreach (var a in anomalous)
            foreach (var n in normal) wins += a > n ? 1 : a == n ? 0.5 : 0;
        return wins / (normal.Count * (double)anomalous.Count);
    }

    private static double[] PooledPixels(ImageTensor image)
    {
        const int pool = 2;
        int s = image.Height, plane = s * s, m = s / pool;
        double gain = image.Data.Average();
        var features = new double[3 * m * m];
        for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++)
        {
            int k = y * s + x, cell = y / pool * m + x / pool;
            double r = image.Data[k], g = image.Data[plane + k], b = image.Data[2 * plane + k];
            features[cell] += (r + g + b) / 3 / gain / (pool * pool);
            features[m * m + cell] += (r - g) / (pool * pool);
            features[2 * m * m + cell] += (b - g) / (pool * pool);
        }
        return features;
    }

    /// <summary>Per 8×8 block (stride 4): brightness, two chroma means, brightest and darkest excursion, spread.</summary>
    private static List<double[]> BlockFeatures(ImageTensor image)
    {
        const int block = 8, stride = 4, count = block * block;
        int s = image.Height, plane = s * s;
        var blocks = new List<double[]>();
        for (int y = 0; y + block <= s; y += stride)
        for (int x = 0; x + block <= s; x += stride)
        {
            double sum = 0, sumSquares = 0, redGreen = 0, blueGreen = 0, max = double.MinValue, min = double.MaxValue;
            for (int j = 0; j < block; j++)
            for (int i = 0; i < block; i++)
            {
                int k = (y + j) * s + x + i;
                double r = image.Data[k], g = image.Data[plane + k], b = image.Data[2 * plane + k], v = (r + g + b) / 3;
                sum += v;
                sumSquares += v * v;
                redGreen += r - g;
                blueGreen += b - g;
                max = Math.Max(max, v);
                min = Math.Min(min, v);
            }
            double mean = sum / count;
            blocks.Add([mean, redGreen / count, blueGreen / count, max - mean, mean - min, Math.Sqrt(Math.Max(0, sumSquares / count - mean * mean))]);
        }
        // Relative to the image's median block: removes per-image illumination, the nuisance a global score trips on.
        for (int f = 0; f < blocks[0].Length; f++)
        {
            var sorted = blocks.Select(b => b[f]).Order().ToArray();
            double median = sorted[sorted.Length / 2];
            foreach (var b in blocks) b[f] -= median;
        }
        return blocks;
    }
}
