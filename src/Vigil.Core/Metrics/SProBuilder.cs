using System.Numerics;
using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>
/// Collects the sPRO (<see cref="SPro"/>) of up to 32 groups of test images image by image: each image's pixels are
/// packed and appended as one sorted run to a temporary file (<see cref="PixelRuns"/>: 8 bytes a pixel, nothing stays
/// behind), and <see cref="Compute"/> merges the runs in one sweep for all groups. Memory: one image's pixels while
/// adding, a few numbers per image, channel and channel overlap afterwards — not the test set's maps.
/// Every pixel is one key whose payload names its class: (the image's groups, the set of that image's channels the pixel
/// lies in; channels may overlap, so a set), one class per image and distinct set, plus one anomaly-free class per
/// distinct group membership. Payload 0 is not used, so every key reaches the visitor. The numbers equal sorting all
/// pixels at once; within one score the merge adds the 1/saturation steps in another order (a rounding difference only).
/// </summary>
public sealed class SProBuilder : IDisposable
{
    private readonly int _groupCount;
    private readonly List<uint> _classGroups = [0]; // per payload: the groups of its image
    private readonly List<int[]> _classChannels = [[]]; // per payload: the global channel ids its pixels lie in (none: anomaly-free)
    private readonly Dictionary<uint, uint> _normalClasses = [];
    private readonly List<long> _saturation = [];
    private readonly List<uint> _channelGroups = [];
    private readonly long[] _normalPixels;
    private readonly int[] _channelCounts, _imageCounts;
    private PixelRuns? _runs;
    private int _images;

    /// <param name="groupCount">How many groups the images may belong to (1 to 32).</param>
    /// <param name="tempFolder">Where the file goes (default: the system's temporary folder).</param>
    public SProBuilder(int groupCount = 1, string? tempFolder = null)
    {
        if (groupCount is < 1 or > 32)
            throw new ArgumentOutOfRangeException(nameof(groupCount), groupCount, "sPRO takes 1 to 32 groups of test images.");
        _groupCount = groupCount;
        (_normalPixels, _channelCounts, _imageCounts) = (new long[groupCount], new int[groupCount], new int[groupCount]);
        _runs = new PixelRuns(tempFolder);
    }

    /// <summary>
    /// The next test image: its anomaly map (resized bilinearly to the ground truth when the sizes differ), its ground
    /// truth (<see cref="LocoGroundTruth.Good"/> for a good image) and the groups it belongs to (bit g: group g; 0: none,
    /// the image is not read).
    /// </summary>
    public void Add(ScoreMap map, LocoGroundTruth groundTruth, uint groups)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(groundTruth);
        var runs = _runs ?? throw new ObjectDisposedException(nameof(SProBuilder));
        if (_groupCount < 32 && groups >> _groupCount != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"Image #{_images} names a group beyond the {_groupCount} of this evaluation.");
        int i = _images++;
        if (groups == 0) return;
        PixelScores.ThrowIfNotFinite(map, i);
        var gt = groundTruth;
        if (map.Height != gt.Height || map.Width != gt.Width) map = map.Resize(gt.Height, gt.Width);
        var channels = gt.Channels;
        if (channels.Count > 64)
            throw new VigilInputException($"Ground truth #{i} has {channels.Count} channels; at most 64 per image are supported.");
        int firstChannel = _saturation.Count;
        var saturation = new long[channels.Count];
        for (int c = 0; c < channels.Count; c++)
        {
            var ch = channels[c];
            if (ch.Mask.Height != gt.Height || ch.Mask.Width != gt.Width)
                throw new ArgumentException($"Channel {c} of ground truth #{i} is {ch.Mask.Height}x{ch.Mask.Width}, not {gt.Height}x{gt.Width}.", nameof(groundTruth));
            long area = ch.Mask.CountDefective();
            long sat = saturation[c] = ch.Defect.SaturationArea(area);
            if (sat <= 0)
                throw new VigilInputException($"Channel {c} ({ch.Defect.DefectName}) of ground truth #{i} has area {area} and saturation area {sat}; its sPRO is undefined (an empty channel or a relative threshold that rounds to 0).");
        }
        if (!_normalClasses.TryGetValue(groups, out uint normalClass))
        {
            normalClass = (uint)_classGroups.Count;
            _normalClasses[groups] = normalClass;
            _classGroups.Add(groups);
            _classChannels.Add([]);
        }
        var defectClasses = new Dictionary<ulong, uint>(); // this image's channel sets
        var keys = GC.AllocateUninitializedArray<ulong>(map.Data.Length);
        long imageNormal = 0;
        for (int p = 0; p < keys.Length; p++)
        {
            ulong bits = 0;
            for (int c = 0; c < channels.Count; c++)
                if (channels[c].Mask.Data[p]) bits |= 1UL << c;
            uint id = normalClass;
            if (bits == 0) imageNormal++;
            else if (!defectClasses.TryGetValue(bits, out id))
            {
                id = (uint)_classGroups.Count;
                defectClasses[bits] = id;
                var set = new List<int>();
                for (int c = 0; c < channels.Count; c++) if ((bits >> c & 1) != 0) set.Add(firstChannel + c);
                _classGroups.Add(groups);
                _classChannels.Add(set.ToArray());
            }
            keys[p] = RankedScores.Pack(map.Data[p], id);
        }
        runs.Add(keys);
        _saturation.AddRange(saturation);
        _channelGroups.AddRange(Enumerable.Repeat(groups, channels.Count));
        for (uint g = groups; g != 0; g &= g - 1)
        {
            int group = BitOperations.TrailingZeroCount(g);
            _normalPixels[group] += imageNormal;
            _channelCounts[group] += channels.Count;
            _imageCounts[group]++;
        }
    }

    /// <summary>Images added so far.</summary>
    public int ImageCount => _images;

    /// <summary>
    /// The normalised AUC-sPRO per FPR limit (default <see cref="SPro.LocoFprLimits"/>) of each group in
    /// <paramref name="groups"/> (default: all), from one merge of the runs; groups left out need not be defined.
    /// </summary>
    public IReadOnlyList<SProResult> Compute(IReadOnlyList<int>? groups = null, IReadOnlyList<double>? fprLimits = null)
    {
        var runs = _runs ?? throw new ObjectDisposedException(nameof(SProBuilder));
        var wanted = (groups ?? Enumerable.Range(0, _groupCount).ToArray()).ToArray();
        var limits = (fprLimits ?? SPro.LocoFprLimits).ToArray();
        foreach (double l in limits)
            if (!(l > 0 && l <= 1)) throw new ArgumentOutOfRangeException(nameof(fprLimits), l, "FPR limits must be in (0, 1].");
        if (_images == 0)
            throw new ArgumentException("No anomaly maps given; sPRO needs test images.");
        uint mask = 0;
        foreach (int g in wanted)
        {
            if ((uint)g >= (uint)_groupCount) throw new ArgumentOutOfRangeException(nameof(groups), g, $"There are {_groupCount} groups.");
            string which = _groupCount == 1 ? "" : $" of group {g}";
            if (_imageCounts[g] == 0) throw new ArgumentException($"Group {g} has no test image.", nameof(groups));
            if (_channelCounts[g] == 0)
                throw new VigilInputException($"None of the {_imageCounts[g]} ground truths{which} has a defect channel; sPRO is undefined without anomalous images.");
            if (_normalPixels[g] == 0)
                throw new VigilInputException($"Every pixel{which} lies in a defect channel; the FPR (and the sPRO AUC) is undefined.");
            mask |= 1u << g;
        }
        var visitor = new SProVisitor(_classGroups.ToArray(), _classChannels.ToArray(), _saturation.ToArray(), _channelGroups.ToArray(),
            _normalPixels, _channelCounts, limits, mask);
        runs.Sweep(ref visitor);
        return wanted.Select(g => new SProResult(Enumerable.Range(0, limits.Length)
            .ToDictionary(l => limits[l], l => visitor.Areas[g][l].Normalized))).ToArray();
    }

    /// <summary>Deletes the file.</summary>
    public void Dispose()
    {
        _runs?.Dispose();
        _runs = null;
    }

    /// <summary>Per wanted group: FP count and Σ over its channels of min(TP, saturation) / saturation; a group's point is added only when it moved.</summary>
    private struct SProVisitor(uint[] classGroups, int[][] classChannels, long[] saturation, uint[] channelGroups,
        long[] normalPixels, int[] channelCounts, double[] limits, uint wanted) : ISweepVisitor
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
                uint groups = classGroups[payload] & wanted;
                _moved |= groups;
                for (; groups != 0; groups &= groups - 1) _falsePositives[BitOperations.TrailingZeroCount(groups)]++;
                return;
            }
            foreach (int c in channels)
            {
                if (++_truePositives[c] > saturation[c]) continue;
                uint groups = channelGroups[c] & wanted;
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
            for (uint groups = wanted; groups != 0; groups &= groups - 1)
                foreach (var area in Areas[BitOperations.TrailingZeroCount(groups)])
                    if (!area.Done) return true;
            return false;
        }
    }
}
