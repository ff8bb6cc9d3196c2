using System.Numerics;
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
        return Compute(maps, groundTruth, [Enumerable.Range(0, maps.Count).ToArray()], fprLimits)[0];
    }

    /// <summary>
    /// The sPRO of several groups of the same test images (e.g. LOCO's logical + good, structural + good, all) from one
    /// sort of their pixels: each group's curve uses only its own images' channels and anomaly-free pixels, exactly as
    /// if it were computed alone. Images in no group are not read. At most 32 groups.
    /// </summary>
    /// <param name="groups">Each group's image indices into <paramref name="maps"/>.</param>
    public static IReadOnlyList<SProResult> Compute(IReadOnlyList<ScoreMap> maps, IReadOnlyList<LocoGroundTruth> groundTruth,
        IReadOnlyList<IReadOnlyList<int>> groups, IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(groups);
        var limits = (fprLimits ?? LocoFprLimits).ToArray();
        foreach (double l in limits)
            if (!(l > 0 && l <= 1)) throw new ArgumentOutOfRangeException(nameof(fprLimits), l, "FPR limits must be in (0, 1].");
        if (maps.Count != groundTruth.Count)
            throw new ArgumentException($"{maps.Count} anomaly maps but {groundTruth.Count} ground truths; give one per test image (LocoGroundTruth.Good for good images).", nameof(groundTruth));
        if (maps.Count == 0)
            throw new ArgumentException("No anomaly maps given; sPRO needs test images.", nameof(maps));
        if (groups.Count is 0 or > 32)
            throw new ArgumentException($"{groups.Count} groups given; sPRO takes 1 to 32 groups of test images.", nameof(groups));
        var imageGroups = new uint[maps.Count]; // bit g: the image is in group g
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g].Count == 0) throw new ArgumentException($"Group {g} has no test image.", nameof(groups));
            foreach (int i in groups[g])
            {
                if ((uint)i >= (uint)maps.Count) throw new ArgumentOutOfRangeException(nameof(groups), i, $"Group {g} names image {i}; there are {maps.Count}.");
                imageGroups[i] |= 1u << g;
            }
        }

        long total = 0;
        for (int i = 0; i < maps.Count; i++)
            if (imageGroups[i] != 0) total += (long)groundTruth[i].Height * groundTruth[i].Width;
        if (total > Array.MaxLength)
            throw new VigilInputException($"{total} test pixels are more than one evaluation can hold; evaluate at a lower resolution.");

        // Each pixel's payload names its class: the groups of its image and the set of channels it lies in (pixels can
        // lie in several overlapping channels; none for an anomaly-free pixel). Payload 0 is not used.
        var keys = new ulong[total];
        var classGroups = new List<uint> { 0 };
        var classChannels = new List<int[]> { Array.Empty<int>() };
        var normalClasses = new Dictionary<uint, uint>();
        var defectClasses = new Dictionary<(int Image, ulong Bits), uint>();
        var saturation = new List<long>();
        var channelGroups = new List<uint>();
        var normalPixels = new long[groups.Count];
        var channelCounts = new int[groups.Count];
        int pos = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            uint memberOf = imageGroups[i];
            if (memberOf == 0) continue;
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
                channelGroups.Add(memberOf);
                ForEachGroup(memberOf, g => channelCounts[g]++);
            }
            if (!normalClasses.TryGetValue(memberOf, out uint normalClass))
            {
                normalClass = (uint)classGroups.Count;
                normalClasses[memberOf] = normalClass;
                classGroups.Add(memberOf);
                classChannels.Add([]);
            }
            long imageNormal = 0;
            for (int p = 0; p < map.Data.Length; p++)
            {
                ulong bits = 0;
                for (int c = 0; c < channels.Count; c++)
                    if (channels[c].Mask.Data[p]) bits |= 1UL << c;
                uint id = normalClass;
                if (bits == 0) imageNormal++;
                else if (!defectClasses.TryGetValue((i, bits), out id))
                {
                    id = (uint)classGroups.Count;
                    defectClasses[(i, bits)] = id;
                    var set = new List<int>();
                    for (int c = 0; c < channels.Count; c++) if ((bits >> c & 1) != 0) set.Add(firstChannel + c);
                    classGroups.Add(memberOf);
                    classChannels.Add(set.ToArray());
                }
                keys[pos++] = RankedScores.Pack(map.Data[p], id);
            }
            ForEachGroup(memberOf, g => normalPixels[g] += imageNormal);
        }
        for (int g = 0; g < groups.Count; g++)
        {
            string which = groups.Count == 1 ? "" : $" of group {g}";
            if (channelCounts[g] == 0)
                throw new VigilInputException($"None of the {groups[g].Count} ground truths{which} has a defect channel; sPRO is undefined without anomalous images.");
            if (normalPixels[g] == 0)
                throw new VigilInputException($"Every pixel{which} lies in a defect channel; the FPR (and the sPRO AUC) is undefined.");
        }

        keys = RankedScores.SortByScore(keys);
        var visitor = new SProVisitor(classGroups.ToArray(), classChannels.ToArray(), saturation.ToArray(), channelGroups.ToArray(),
            normalPixels, channelCounts, limits);
        RankedScores.Sweep(keys, ref visitor);
        var results = new SProResult[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            var result = new Dictionary<double, double>();
            for (int l = 0; l < limits.Length; l++) result[limits[l]] = visitor.Areas[g][l].Normalized;
            results[g] = new SProResult(result);
        }
        return results;
    }

    private static void ForEachGroup(uint groups, Action<int> action)
    {
        for (; groups != 0; groups &= groups - 1) action(BitOperations.TrailingZeroCount(groups));
    }

    /// <summary>Per group: FP count and Σ over its channels of min(TP, saturation) / saturation; a group's point is added only when it moved.</summary>
    private struct SProVisitor(uint[] classGroups, int[][] classChannels, long[] saturation, uint[] channelGroups,
        long[] normalPixels, int[] channelCounts, double[] limits) : ISweepVisitor
    {
        private readonly long[] _truePositives = new long[saturation.Length];
        private readonly long[] _falsePositives = new long[normalPixels.Length];
        private readonly double[] _sproSums = new double[normalPixels.Length];
        private uint _moved;
        public readonly TruncatedArea[][] Areas = normalPixels.Select(_ => limits.Select(l => new TruncatedArea(l)).ToArray()).ToArray();

        public readonly bool UsesPayload => true;

        public void OnPositive(uint payload)
        {
            var channels = classChannels[payload];
            if (channels.Length == 0)
            {
                uint groups = classGroups[payload];
                _moved |= groups;
                for (; groups != 0; groups &= groups - 1) _falsePositives[BitOperations.TrailingZeroCount(groups)]++;
                return;
            }
            foreach (int c in channels)
            {
                if (++_truePositives[c] > saturation[c]) continue;
                uint groups = channelGroups[c];
                _moved |= groups;
                for (; groups != 0; groups &= groups - 1) _sproSums[BitOperations.TrailingZeroCount(groups)] += 1.0 / saturation[c];
            }
        }

        public bool OnThreshold(float threshold, long positives, long negatives)
        {
            // An unmoved group would repeat its last point, which adds no area.
            for (uint groups = _moved; groups != 0; groups &= groups - 1)
            {
                int g = BitOperations.TrailingZeroCount(groups);
                double fpr = (double)_falsePositives[g] / normalPixels[g], spro = Math.Min(_sproSums[g] / channelCounts[g], 1.0);
                foreach (ref var area in Areas[g].AsSpan()) area.Add(fpr, spro);
            }
            _moved = 0;
            foreach (var group in Areas)
                foreach (var area in group)
                    if (!area.Done) return true;
            return false;
        }
    }
}
