using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vigil.Building;

/// <summary>
/// One run of the exact farthest-point selection behind <see cref="KCenterGreedy.Select(PaddedRows, int, IReadOnlyList{int})"/>.
/// Every point sits in one group: the group of the pick it is nearest to (its value is its squared distance to that
/// pick), or the "unassigned" group of points still holding their start-mean value. When pick c arrives, a group
/// whose pick c_g has d(c, c_g) ≥ 2·radius cannot lose a point (triangle inequality) and is skipped; inside a
/// scanned group the same test per point skips most distance computations. For unassigned points the start points
/// play the centre: d(x, c) ≥ mean_s d(c, s) − mean_s d(x, s), so x is safe while mean(c) ≥ 2·mean(x).
/// A tournament tree over the groups' (largest value, lowest index) gives the next pick.
/// </summary>
internal sealed class PrunedGreedy
{
    /// <summary>Groups per parallel work item; below two of them the step runs on one thread.</summary>
    private const int GroupsPerChunk = 512;

    /// <summary>Absolute slack: keeps the tests conservative even where float products underflow.</summary>
    private const float Tiny = 1e-30f;

    private readonly PaddedRows _rows;
    private readonly int _stride;
    private readonly float[] _value;      // the reference algorithm's current min squared distance, bit for bit
    private readonly float[] _startMean;  // mean Euclidean distance to the start points
    private readonly float _slack;        // ≥ 1: relative margin that absorbs the rounding of all compared quantities
    private readonly ConcurrentStack<Worker> _workers = new();

    private int[][] _members = [];
    private int[] _memberCount = [];
    private float[] _radius = [];         // largest value in the group (a squared distance); −∞ when empty
    private int[] _top = [];              // lowest point index holding that value
    private int[] _tree = [];             // tournament tree over groups, leaves at [_leaves, 2·_leaves)
    private int _leaves;
    private float[] _centres = [];        // picked rows, contiguous: group g's pick at g·stride
    private int _unassigned;              // group index of the unassigned points (after all pick groups)
    private float _unassignedMaxMean;

    public PrunedGreedy(PaddedRows rows, IReadOnlyList<int> startPoints)
    {
        _rows = rows;
        _stride = rows.Stride;
        int n = rows.Count;
        _value = new float[n];
        _startMean = new float[n];
        // Relative error of a computed squared distance is below (terms per lane + reduction depth + 2)·u, u = 2^-24;
        // a start mean adds one rounding per start point. 16× that on top of 1 keeps every test on the safe side.
        double unit = Math.Pow(2, -24);
        _slack = (float)(1 + 16 * unit * (rows.Stride / PaddedRows.Alignment + 8 + startPoints.Count) + 1e-6);
        var starts = startPoints.ToArray();
        Parallel.For(0, (n + 4095) / 4096, chunk =>
        {
            for (int i = chunk * 4096, end = Math.Min(n, i + 4096); i < end; i++)
            {
                float sum = 0;
                foreach (int s in starts) sum += MathF.Sqrt(Distance(i, s));
                float mean = sum / starts.Length;
                _startMean[i] = mean;
                _value[i] = mean * mean;
            }
        });
    }

    public int[] Pick(int count)
    {
        int n = _rows.Count;
        _unassigned = count;
        _leaves = 1;
        while (_leaves < count + 1) _leaves *= 2;
        _members = new int[count + 1][];
        _memberCount = new int[count + 1];
        _radius = new float[_leaves];
        _top = new int[_leaves];
        Array.Fill(_radius, float.NegativeInfinity);
        Array.Fill(_top, int.MaxValue);
        _tree = new int[2 * _leaves];
        for (int g = 0; g < _leaves; g++) _tree[_leaves + g] = g;
        for (int i = _leaves - 1; i >= 1; i--) _tree[i] = Better(_tree[2 * i], _tree[2 * i + 1]);
        _centres = new float[(long)count * _stride];

        _members[_unassigned] = Enumerable.Range(0, n).ToArray();
        _memberCount[_unassigned] = n;
        SetGroupTop(_unassigned);
        UpdateTree(_unassigned);
        _unassignedMaxMean = _startMean.Max();

        var picked = new int[count];
        var moved = new List<int>();
        var changed = new List<int>();
        for (int step = 0; step < count; step++)
        {
            int c = _top[_tree[1]];
            picked[step] = c;
            _rows.Row(c).CopyTo(_centres.AsSpan((int)((long)step * _stride), _stride));
            moved.Clear();
            changed.Clear();
            UpdatePickGroups(c, step, moved, changed);
            if (UpdateUnassigned(c, moved)) changed.Add(_unassigned);
            _members[step] = moved.ToArray();
            _memberCount[step] = moved.Count;
            changed.Add(step);
            foreach (int g in changed)
            {
                if (g == step) SetGroupTop(g);
                UpdateTree(g);
            }
        }
        return picked;
    }

    /// <summary>Runs <see cref="UpdateGroup"/> on groups 0…count−1, in parallel chunks when there are enough.</summary>
    private void UpdatePickGroups(int c, int count, List<int> moved, List<int> changed)
    {
        int chunks = (count + GroupsPerChunk - 1) / GroupsPerChunk;
        if (chunks < 2)
        {
            for (int g = 0; g < count; g++)
                if (UpdateGroup(g, c, moved)) changed.Add(g);
            return;
        }
        var results = new ConcurrentBag<Worker>();
        Parallel.For(0, chunks, () => _workers.TryPop(out var w) ? w : new Worker(), (chunk, _, worker) =>
        {
            for (int g = chunk * GroupsPerChunk, end = Math.Min(count, g + GroupsPerChunk); g < end; g++)
                if (UpdateGroup(g, c, worker.Moved)) worker.Changed.Add(g);
            return worker;
        }, worker => results.Add(worker));
        foreach (var worker in results)
        {
            moved.AddRange(worker.Moved);
            changed.AddRange(worker.Changed);
            worker.Moved.Clear();
            worker.Changed.Clear();
            _workers.Push(worker);
        }
    }

    /// <summary>Lowers the values of group g's points that pick c is nearer to and moves them out; true when the group changed.</summary>
    private bool UpdateGroup(int g, int c, List<int> moved)
    {
        float radius = _radius[g];
        if (!(radius > 0)) return false; // empty, or every value already 0
        float limit = 4 * radius * _slack + Tiny;
        float centreDistance = PaddedRows.Squared(ref CentreRef(g), ref RowRef(c), _stride, limit);
        if (centreDistance >= limit) return false;

        var list = _members[g];
        int count = _memberCount[g], kept = 0;
        float max = float.NegativeInfinity;
        int top = int.MaxValue;
        for (int i = 0; i < count; i++)
        {
            int x = list[i];
            float v = _value[x];
            // d(x, c) ≥ d(c, c_g) − d(x, c_g) ≥ d(x, c_g) when d(c, c_g) ≥ 2·d(x, c_g).
            if (v > 0 && centreDistance < 4 * v * _slack + Tiny)
            {
                float d = Distance(x, c);
                if (d < v)
                {
                    _value[x] = d;
                    moved.Add(x);
                    continue;
                }
            }
            list[kept++] = x;
            if (v > max || (v == max && x < top)) (max, top) = (v, x);
        }
        if (kept == count) return false;
        _memberCount[g] = kept;
        _radius[g] = max;
        _top[g] = top;
        return true;
    }

    /// <summary>The same for the unassigned points, bounded through the start points; true when the group changed.</summary>
    private bool UpdateUnassigned(int c, List<int> moved)
    {
        int count = _memberCount[_unassigned];
        float meanC = _startMean[c];
        if (count == 0 || meanC >= 2 * _unassignedMaxMean * _slack + Tiny) return false;
        var list = _members[_unassigned];
        int kept = 0;
        float max = float.NegativeInfinity, maxMean = 0;
        int top = int.MaxValue;
        for (int i = 0; i < count; i++)
        {
            int x = list[i];
            float v = _value[x];
            if (meanC < 2 * _startMean[x] * _slack + Tiny)
            {
                float d = Distance(x, c);
                if (d < v)
                {
                    _value[x] = d;
                    moved.Add(x);
                    continue;
                }
            }
            list[kept++] = x;
            maxMean = Math.Max(maxMean, _startMean[x]);
            if (v > max || (v == max && x < top)) (max, top) = (v, x);
        }
        if (kept == count) return false;
        _memberCount[_unassigned] = kept;
        _unassignedMaxMean = maxMean;
        _radius[_unassigned] = max;
        _top[_unassigned] = top;
        return true;
    }

    private void SetGroupTop(int g)
    {
        float max = float.NegativeInfinity;
        int top = int.MaxValue;
        var list = _members[g];
        for (int i = 0; i < _memberCount[g]; i++)
        {
            int x = list[i];
            float v = _value[x];
            if (v > max || (v == max && x < top)) (max, top) = (v, x);
        }
        _radius[g] = max;
        _top[g] = top;
    }

    private void UpdateTree(int g)
    {
        for (int i = (_leaves + g) / 2; i >= 1; i /= 2) _tree[i] = Better(_tree[2 * i], _tree[2 * i + 1]);
    }

    /// <summary>The group holding the larger value, or the lower point index among equal values.</summary>
    private int Better(int a, int b) =>
        _radius[a] > _radius[b] || (_radius[a] == _radius[b] && _top[a] <= _top[b]) ? a : b;

    private float Distance(int i, int j) => PaddedRows.Squared(ref RowRef(i), ref RowRef(j), _stride, float.PositiveInfinity);

    private ref float RowRef(int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_rows.Values), (nint)((long)i * _stride));

    private ref float CentreRef(int g) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_centres), (nint)((long)g * _stride));

    private sealed class Worker
    {
        public List<int> Moved { get; } = [];
        public List<int> Changed { get; } = [];
    }
}
