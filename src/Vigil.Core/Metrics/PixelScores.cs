using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>At which resolution pixel metrics are computed.</summary>
public enum EvaluationResolution
{
    /// <summary>Anomaly maps are resized bilinearly to their ground-truth mask's size (the default; what the MVTec tools expect).</summary>
    GroundTruth,

    /// <summary>Masks are resized nearest-neighbour to their anomaly map's size (faster; slightly different numbers).</summary>
    Model,

    /// <summary>
    /// Maps and masks in the network's view: the image resized and cropped as the backbone does, the masks by the
    /// same geometry and mask rule, the map before it is placed back onto the image. What the methods' reference code
    /// evaluates (a crop leaves the image's border out). The caller hands over maps and masks of one size.
    /// </summary>
    View,
}

/// <summary>
/// All test pixels of all images, sorted ONCE by score; pixel AUROC, AP, F1-max and AU-PRO reuse that order (each is
/// one linear pass). A pixel is anomalous when its mask pixel is set; the ground-truth regions for PRO are the
/// 8-connected components of each mask. See docs/metrics.md for the exact definitions. Made from all maps at once
/// (in memory), or image by image by <see cref="PixelScoresBuilder"/> (on disk; dispose it to delete the files).
/// </summary>
public sealed class PixelScores : IDisposable
{
    private readonly ISortedKeys _sorted; // payload: 0 = normal pixel, r > 0 = pixel of ground-truth region r
    private readonly PixelRuns? _runs;    // when the pixels are on disk
    private readonly double[] _inverseRegionSize; // indexed by region id; [0] unused

    public PixelScores(IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks,
        EvaluationResolution resolution = EvaluationResolution.GroundTruth)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(masks);
        if (maps.Count != masks.Count)
            throw new ArgumentException($"{maps.Count} anomaly maps but {masks.Count} masks; give one mask per map (an empty mask for a good image).", nameof(masks));
        if (maps.Count == 0)
            throw new ArgumentException("No anomaly maps given; pixel metrics need at least one test image.", nameof(maps));
        Resolution = resolution;

        var aligned = new (float[] Scores, BinaryMask Mask)[maps.Count];
        long total = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            aligned[i] = Align(maps[i], masks[i], resolution, i);
            total += aligned[i].Scores.Length;
        }
        if (total > Array.MaxLength)
            throw new VigilInputException($"{total} test pixels are more than one evaluation can hold in memory ({Array.MaxLength}); evaluate them image by image with {nameof(PixelScoresBuilder)}, or compute pixel metrics in the network's view (--protocol reference).");

        // Pack keys per image in parallel; region labels are local first and made global once all counts are known.
        var keys = GC.AllocateUninitializedArray<ulong>((int)total);
        var offsets = new int[maps.Count + 1];
        for (int i = 0; i < maps.Count; i++) offsets[i + 1] = offsets[i] + aligned[i].Scores.Length;
        var regionSizes = new int[maps.Count][];
        var positives = new long[maps.Count];
        Parallel.For(0, maps.Count, i =>
        {
            regionSizes[i] = Pack(aligned[i].Scores, aligned[i].Mask, keys.AsSpan(offsets[i], aligned[i].Scores.Length));
            positives[i] = regionSizes[i].Sum(s => (long)s);
        });

        var regionOffsets = new uint[maps.Count];
        var inverse = new List<double> { double.NaN };
        for (int i = 0; i < maps.Count; i++)
        {
            regionOffsets[i] = (uint)(inverse.Count - 1);
            foreach (int size in regionSizes[i]) inverse.Add(1.0 / size);
        }
        Parallel.For(0, maps.Count, i =>
        {
            uint shift = regionOffsets[i];
            if (shift == 0 || regionSizes[i].Length == 0) return;
            foreach (ref ulong key in keys.AsSpan(offsets[i], offsets[i + 1] - offsets[i]))
                if ((uint)key != 0) key += shift;
        });

        _sorted = new SortedArray(RankedScores.SortByScore(keys));
        _inverseRegionSize = inverse.ToArray();
        RegionCount = inverse.Count - 1;
        AnomalousPixels = positives.Sum();
        NormalPixels = total - AnomalousPixels;
        ImageCount = maps.Count;
    }

    /// <summary>Pixels merged from per-image runs on disk (see <see cref="PixelScoresBuilder"/>), which this then owns.</summary>
    internal PixelScores(PixelRuns runs, double[] inverseRegionSize, long anomalousPixels, long normalPixels, int imageCount,
        EvaluationResolution resolution)
    {
        (_sorted, _runs, _inverseRegionSize) = (runs, runs, inverseRegionSize);
        (RegionCount, AnomalousPixels, NormalPixels, ImageCount, Resolution) = (inverseRegionSize.Length - 1, anomalousPixels, normalPixels, imageCount, resolution);
    }

    /// <summary>A map and its mask at the resolution the pixels are compared at (validated).</summary>
    internal static (float[] Scores, BinaryMask Mask) Align(ScoreMap map, BinaryMask mask, EvaluationResolution resolution, int index)
    {
        if (map is null) throw new ArgumentException($"Anomaly map #{index} is null.", "maps");
        if (mask is null) throw new ArgumentException($"Mask #{index} is null.", "masks");
        ThrowIfNotFinite(map, index);
        return resolution == EvaluationResolution.Model
            ? (map.Data, ImageOps.Resize(mask, map.Height, map.Width))
            : ((map.Height == mask.Height && map.Width == mask.Width ? map : map.Resize(mask.Height, mask.Width)).Data, mask);
    }

    /// <summary>
    /// Packs one image's pixels into <paramref name="target"/> with their region label local to the image (0 = normal,
    /// 1..R = 8-connected component) and returns the regions' sizes.
    /// </summary>
    internal static int[] Pack(float[] scores, BinaryMask mask, Span<ulong> target)
    {
        if (!mask.Data.AsSpan().Contains(true)) // good image: no labelling needed
        {
            for (int j = 0; j < scores.Length; j++) target[j] = RankedScores.Pack(scores[j], 0);
            return [];
        }
        var labels = ConnectedComponents.Label(mask, out int count);
        var sizes = new int[count];
        for (int j = 0; j < scores.Length; j++)
        {
            int l = labels[j];
            if (l != 0) sizes[l - 1]++;
            target[j] = RankedScores.Pack(scores[j], (uint)l);
        }
        return sizes;
    }

    /// <summary>Which resolution the pixels were compared at.</summary>
    public EvaluationResolution Resolution { get; }
    public int ImageCount { get; }
    public long AnomalousPixels { get; }
    public long NormalPixels { get; }

    /// <summary>Ground-truth regions (8-connected components) over all images.</summary>
    public int RegionCount { get; }

    /// <summary>Pixel AUROC over all test pixels (sklearn roc_auc_score on the flattened pixels).</summary>
    public double Auroc()
    {
        RequireAnomalous("pixel AUROC");
        RequireNormal("pixel AUROC");
        return RankingMetrics.Auroc(_sorted, AnomalousPixels, NormalPixels);
    }

    /// <summary>Pixel step-wise average precision (sklearn average_precision_score on the flattened pixels).</summary>
    public double AveragePrecision()
    {
        RequireAnomalous("pixel average precision");
        return RankingMetrics.AveragePrecision(_sorted, AnomalousPixels);
    }

    /// <summary>Best pixel F1 over all thresholds and its threshold.</summary>
    public F1Max F1Max()
    {
        RequireAnomalous("pixel F1-max");
        return RankingMetrics.F1Max(_sorted, AnomalousPixels);
    }

    /// <summary>
    /// Normalised area under the PRO curve up to <paramref name="fprLimit"/>, exactly as the MVTec AD evaluation code
    /// (pro_curve_util.compute_pro + generic_util.trapezoid): a threshold at every distinct score, FPR over all normal
    /// pixels, PRO = mean overlap over all regions of all images, y interpolated at the limit, area / limit.
    /// </summary>
    public double AuPro(double fprLimit = 0.3) => SweepPro(fprLimit, curve: null).Area.Normalized;

    /// <summary>
    /// The pixel ROC curve (FPR, TPR) that <see cref="Auroc"/> integrates, from (0, 0) to (1, 1), thinned to points at
    /// least <paramref name="step"/> apart (|ΔFPR| + |ΔTPR|; 0 keeps every distinct threshold).
    /// </summary>
    public Curve RocCurve(double step = Curve.DefaultStep)
    {
        RequireAnomalous("the pixel ROC curve");
        RequireNormal("the pixel ROC curve");
        return RankingMetrics.RocCurve(_sorted, AnomalousPixels, NormalPixels, step);
    }

    /// <summary>
    /// The PRO curve (FPR, PRO) that <see cref="AuPro"/> integrates, from (0, 0), ending at FPR = <paramref name="fprLimit"/>
    /// with PRO interpolated there, thinned like <see cref="RocCurve"/>: its trapezoid area / limit is the AU-PRO.
    /// </summary>
    public Curve ProCurve(double fprLimit = 0.3, double step = Curve.DefaultStep)
    {
        var curve = new CurveBuilder(step, fprLimit);
        SweepPro(fprLimit, curve);
        return curve.Build();
    }

    private ProVisitor SweepPro(double fprLimit, CurveBuilder? curve)
    {
        if (!(fprLimit > 0 && fprLimit <= 1))
            throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "The FPR integration limit must be in (0, 1].");
        RequireAnomalous("AU-PRO");
        RequireNormal("AU-PRO");
        var v = new ProVisitor(_inverseRegionSize, NormalPixels, RegionCount, fprLimit, curve);
        _sorted.Sweep(ref v);
        return v;
    }

    private struct ProVisitor(double[] inverseRegionSize, long normalPixels, int regions, double limit, CurveBuilder? curve) : ISweepVisitor
    {
        private double _overlapSum; // Σ over covered region pixels of 1/|region|
        public TruncatedArea Area = new(limit);

        public readonly bool UsesPayload => true;
        public void OnPositive(uint payload) => _overlapSum += inverseRegionSize[payload];

        public bool OnThreshold(float threshold, long positives, long negatives)
        {
            // The reference clips to 1 against cumulative rounding; the FPR is an exact ratio.
            double fpr = (double)negatives / normalPixels, pro = Math.Min(_overlapSum / regions, 1.0);
            Area.Add(fpr, pro);
            curve?.Add(fpr, pro);
            return !Area.Done;
        }
    }

    /// <summary>Deletes the temporary files of pixels kept on disk (nothing to do for pixels in memory).</summary>
    public void Dispose() => _runs?.Dispose();

    private void RequireAnomalous(string metric)
    {
        if (AnomalousPixels == 0)
            throw new VigilInputException($"None of the {ImageCount} masks has a defective pixel; {metric} is undefined. Include anomalous test images with ground truth.");
    }

    private void RequireNormal(string metric)
    {
        if (NormalPixels == 0)
            throw new VigilInputException($"Every pixel of the {ImageCount} masks is defective; {metric} is undefined without normal pixels.");
    }

    internal static void ThrowIfNotFinite(ScoreMap map, int index)
    {
        int bad = Array.FindIndex(map.Data, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new VigilInputException($"Anomaly map #{index} has {map.Data[bad]} at (y={bad / map.Width}, x={bad % map.Width}); metrics need finite scores. Check the detector output for that image.");
    }
}
