using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vigil.Components;

/// <summary>
/// One run of the exact farthest-point selection behind <see cref="KCenterGreedy.Select(PaddedRows, int, IReadOnlyList{int})"/>,
/// evaluated lazily. A point's value only ever decreases, so a value last brought up to date at an earlier step is
/// an upper bound of its current value. A heap orders points by that bound (larger first, lower index first); the
/// top points are brought up to date (their distances to the picks made since their last update; a few at a time, so
/// the threads share the work) until the top one is up to date: it is then the exact argmax, since every other point's
/// current value is at most its bound. Points whose value
/// has fallen below the shrinking maximum are never touched again, and an update streams the few picks it needs
/// from a small contiguous array instead of the whole point matrix, so no rounding margin and no geometry is
/// needed: the min over the same float distances is the same in any order.
/// </summary>
/// <remarks>
/// Triangle-inequality pruning (skip a pick's group when the new pick is twice its radius away) was tried first and
/// removed: on real patch features distances concentrate (after 10% of picks the covering radius is still half the
/// largest distance), so it skipped almost nothing.
/// </remarks>
internal sealed class LazyGreedy
{
    /// <summary>Picks per parallel share when points are brought up to date.</summary>
    private const int PicksPerShare = 512;

    /// <summary>Top points brought up to date together per thread: the next picks' likely candidates, so the threads share the work.</summary>
    private const int BatchPerThread = 2;

    /// <summary>Distances below which bringing a batch up to date stays on one thread (starting threads costs more).</summary>
    private const int MinParallelWork = 64;

    private readonly PaddedRows _rows;
    private readonly int _stride;
    private readonly float[] _value;   // the straightforward algorithm's value as of step _upToDate[i]
    private readonly int[] _upToDate;  // number of picks already folded into _value[i]
    private readonly int _threads = Math.Max(1, TorchSharp.torch.get_num_threads());

    public LazyGreedy(PaddedRows rows, IReadOnlyList<int> startPoints)
    {
        _rows = rows;
        _stride = rows.Stride;
        int n = rows.Count;
        _value = new float[n];
        _upToDate = new int[n];
        var starts = startPoints.ToArray();
        Parallel.For(0, (n + 4095) / 4096, new ParallelOptions { MaxDegreeOfParallelism = _threads }, chunk =>
        {
            for (int i = chunk * 4096, end = Math.Min(n, i + 4096); i < end; i++)
            {
                float sum = 0;
                foreach (int s in starts) sum += MathF.Sqrt(PaddedRows.Squared(ref Row(i), ref Row(s), _stride, float.PositiveInfinity));
                float mean = sum / starts.Length;
                _value[i] = mean * mean;
            }
        });
    }

    public int[] Pick(int count, CancellationToken cancel = default)
    {
        int n = _rows.Count;
        var picks = new float[(long)count * _stride];
        var heap = new PriorityQueue<int, long>(Enumerable.Range(0, n).Select(i => (i, Key(i))));
        var picked = new int[count];
        var batch = new int[Math.Min(n, _threads == 1 ? 1 : BatchPerThread * _threads)];
        for (int step = 0; step < count; step++)
        {
            if ((step & 255) == 0) cancel.ThrowIfCancellationRequested();
            // An up-to-date top is the exact argmax: every other key bounds its point's current value from above.
            while (_upToDate[heap.Peek()] < step)
            {
                int taken = 0;
                while (taken < batch.Length && heap.TryDequeue(out int x, out _)) batch[taken++] = x;
                BringUpToDate(batch.AsSpan(0, taken), picks, step);
                foreach (int x in batch.AsSpan(0, taken)) heap.Enqueue(x, Key(x));
            }
            int pick = heap.Dequeue();
            picked[step] = pick;
            _rows.Row(pick).CopyTo(picks.AsSpan((int)((long)step * _stride), _stride));
            _value[pick] = 0; // its distance to itself
            _upToDate[pick] = step + 1;
            heap.Enqueue(pick, Key(pick));
        }
        return picked;
    }

    /// <summary>
    /// Heap order: larger value first, then lower index (the straightforward argmax's tie rule). Bits of a
    /// non-negative float order like the float, so the key is (inverted bits, index) in one long, smallest first.
    /// </summary>
    private long Key(int i) => ((long)(0x7F800000 - BitConverter.SingleToInt32Bits(_value[i])) << 32) | (uint)i;

    /// <summary>
    /// Folds the picks made since each point's last update into its value, the work split into runs of at most
    /// <see cref="PicksPerShare"/> picks shared by the threads (a point's minimum is the same in any order).
    /// </summary>
    private void BringUpToDate(ReadOnlySpan<int> points, float[] picks, int step)
    {
        int shares = 0, work = 0;
        foreach (int x in points)
        {
            shares += (step - _upToDate[x] + PicksPerShare - 1) / PicksPerShare;
            work += step - _upToDate[x];
        }
        if (shares == 0) return;
        var share = new (int Point, int From, int To)[shares];
        int s = 0;
        foreach (int x in points)
            for (int from = _upToDate[x]; from < step; from += PicksPerShare)
                share[s++] = (x, from, Math.Min(step, from + PicksPerShare));
        var partial = new float[shares];
        void Fold(int i) => partial[i] = MinDistance(share[i].Point, picks, share[i].From, share[i].To, _value[share[i].Point]);
        if (work < MinParallelWork || _threads < 2)
            for (int i = 0; i < shares; i++) Fold(i);
        else
            Parallel.For(0, shares, new ParallelOptions { MaxDegreeOfParallelism = _threads }, Fold);
        for (int i = 0; i < shares; i++) _value[share[i].Point] = Math.Min(_value[share[i].Point], partial[i]);
        foreach (int x in points) _upToDate[x] = step;
    }

    /// <summary>min(value, distance of x to picks [from, to)); a distance is abandoned once its partial sum reaches the running minimum.</summary>
    private float MinDistance(int x, float[] picks, int from, int to, float value)
    {
        ref float row = ref Row(x);
        ref float first = ref MemoryMarshal.GetArrayDataReference(picks);
        for (int p = from; p < to; p++)
        {
            // A partial sum never exceeds the full one, so reaching the minimum early proves the pick cannot lower it.
            float d = PaddedRows.Squared(ref row, ref Unsafe.Add(ref first, (nint)((long)p * _stride)), _stride, value);
            if (d < value) value = d;
        }
        return value;
    }

    private ref float Row(int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_rows.Values), (nint)((long)i * _stride));
}
