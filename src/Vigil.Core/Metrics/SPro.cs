using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>Normalised AUC-sPRO per FPR integration limit.</summary>
public sealed record SProResult(IReadOnlyDictionary<double, double> AucSpro);

/// <summary>
/// Saturated per-region overlap (MVTec LOCO AD). Definition of the official evaluation code (src/metrics.py,
/// src/aggregation.py, src/util.py): a pixel is positive when score &gt; threshold; per channel sPRO =
/// min(TP area / saturation area, 1); the curve's y is the mean sPRO over all channels of all images; FPR = positive
/// pixels outside every channel / pixels outside every channel, over all images (good images included); the AUC is
/// util.trapz up to the limit with y interpolated there, divided by the limit.
/// The official tool samples thresholds adaptively (curve_max_distance); Vigil uses every distinct score, the exact
/// curve the sampling approximates.
/// </summary>
public static class SPro
{
    /// <summary>The integration limits the official LOCO evaluation reports.</summary>
    public static IReadOnlyList<double> LocoFprLimits { get; } = [0.01, 0.05, 0.1, 0.3, 1.0];

    /// <summary>Anomaly maps whose size differs from their ground truth are resized bilinearly to it.</summary>
    public static SProResult Compute(IReadOnlyList<ScoreMap> maps, IReadOnlyList<LocoGroundTruth> groundTruth,
        IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(groundTruth);
        var limits = (fprLimits ?? LocoFprLimits).ToArray();
        foreach (double l in limits)
            if (!(l > 0 && l <= 1)) throw new ArgumentOutOfRangeException(nameof(fprLimits), l, "FPR limits must be in (0, 1].");
        if (maps.Count != groundTruth.Count)
            throw new ArgumentException($"{maps.Count} anomaly maps but {groundTruth.Count} ground truths; give one per test image (LocoGroundTruth.Good for good images).", nameof(groundTruth));
        if (maps.Count == 0)
            throw new ArgumentException("No anomaly maps given; sPRO needs test images.", nameof(maps));

        long total = 0;
        for (int i = 0; i < maps.Count; i++) total += (long)groundTruth[i].Height * groundTruth[i].Width;
        if (total > Array.MaxLength)
            throw new VigilInputException($"{total} test pixels are more than one evaluation can hold; evaluate at a lower resolution.");

        // Pixels can lie in several (overlapping) channels: the payload names the set of channels a pixel is in.
        var keys = new ulong[total];
        var channelSets = new List<int[]> { Array.Empty<int>() };
        var setIds = new Dictionary<(int Image, ulong Bits), uint>();
        var saturation = new List<long>();
        int pos = 0;
        long normalPixels = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            var gt = groundTruth[i];
            var map = maps[i];
            PixelScores.ThrowIfNotFinite(map, i);
            if (map.Height != gt.Height || map.Width != gt.Width) map = map.Resize(gt.Height, gt.Width);
            var channels = gt.Channels;
            if (channels.Count > 64)
                throw new VigilInputException($"Ground truth #{i} has {channels.Count} channels; at most 64 per image are supported.");
            int firstChannel = saturation.Count;
            for (int c = 0; c < channels.Count; c++)
            {
                var ch = channels[c];
                if (ch.Mask.Height != gt.Height || ch.Mask.Width != gt.Width)
                    throw new ArgumentException($"Channel {c} of ground truth #{i} is {ch.Mask.Height}x{ch.Mask.Width}, not {gt.Height}x{gt.Width}.", nameof(groundTruth));
                long area = ch.Mask.CountDefective();
                long sat = ch.Defect.SaturationArea(area);
                if (sat <= 0)
                    throw new VigilInputException($"Channel {c} ({ch.Defect.DefectName}) of ground truth #{i} has area {area} and saturation area {sat}; its sPRO is undefined (an empty channel or a relative threshold that rounds to 0).");
                saturation.Add(sat);
            }
            for (int p = 0; p < map.Data.Length; p++)
            {
                ulong bits = 0;
                for (int c = 0; c < channels.Count; c++)
                    if (channels[c].Mask.Data[p]) bits |= 1UL << c;
                uint id = 0;
                if (bits != 0 && !setIds.TryGetValue((i, bits), out id))
                {
                    id = (uint)channelSets.Count;
                    setIds[(i, bits)] = id;
                    var set = new List<int>();
                    for (int c = 0; c < channels.Count; c++) if ((bits >> c & 1) != 0) set.Add(firstChannel + c);
                    channelSets.Add(set.ToArray());
                }
                if (id == 0) normalPixels++;
                keys[pos++] = RankedScores.Pack(map.Data[p], id);
            }
        }
        if (saturation.Count == 0)
            throw new VigilInputException($"None of the {maps.Count} ground truths has a defect channel; sPRO is undefined without anomalous images.");

        if (normalPixels == 0)
            throw new VigilInputException("Every pixel lies in a defect channel; the FPR (and the sPRO AUC) is undefined.");

        keys = RankedScores.SortByScore(keys);
        var visitor = new SProVisitor(channelSets.ToArray(), saturation.ToArray(), normalPixels, limits);
        RankedScores.Sweep(keys, ref visitor);
        var result = new Dictionary<double, double>();
        for (int l = 0; l < limits.Length; l++) result[limits[l]] = visitor.Areas[l].Normalized;
        return new SProResult(result);
    }

    private struct SProVisitor(int[][] channelSets, long[] saturation, long normalPixels, double[] limits) : ISweepVisitor
    {
        private readonly long[] _truePositives = new long[saturation.Length];
        private double _sproSum; // Σ over channels of min(TP, saturation) / saturation
        public readonly TruncatedArea[] Areas = limits.Select(l => new TruncatedArea(l)).ToArray();

        public readonly bool UsesPayload => true;

        public void OnPositive(uint payload)
        {
            foreach (int c in channelSets[payload])
                if (++_truePositives[c] <= saturation[c]) _sproSum += 1.0 / saturation[c];
        }

        public bool OnThreshold(float threshold, long positives, long negatives)
        {
            double fpr = (double)negatives / normalPixels, spro = Math.Min(_sproSum / saturation.Length, 1.0);
            bool open = false;
            for (int l = 0; l < Areas.Length; l++)
            {
                Areas[l].Add(fpr, spro);
                open |= !Areas[l].Done;
            }
            return open;
        }
    }
}
