using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vigil.Components;

/// <summary>
/// One run of the exact farthest-point selection behind <see cref="KCenterGreedy.Select(PaddedRows, int, IReadOnlyList{int})"/>,
/// evaluated lazily. A point's value only ever decreases, so a value last brought up to date at an earlier step is
/// an upper bound of its current value. A heap orders points by that bound (larger first, lower index first); the
/// top point is brought up to date (its distances to the picks made since its last update), and if it still comes
/// first it is the exact argmax, since every other point's current value is at most its bound. Points whose value
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
    /// <summary>Picks per parallel share when one point is brought up to date over a long run of picks.</summary>
    private const int PicksPerShare = 512;

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
        for (int step = 0; step < count; step++)
        {
            if ((step & 255) == 0) cancel.ThrowIfCancellationRequested();
            while (true)
            {
                int x = heap.Dequeue();
                BringUpToDate(x, picks, step);
                if (!heap.TryPeek(out _, out long next) || Key(x) < next)
                {
                    picked[step] = x;
                    _rows.Row(x).CopyTo(picks.AsSpan((int)((long)step * _stride), _stride));
                    _value[x] = 0; // its distance to itself
                    _upToDate[x] = step + 1;
                    heap.Enqueue(x, Key(x));
                    break;
                }
                heap.Enqueue(x, Key(x));
            }
        }
        return picked;
    }

    /// <summary>
    /// Heap order: larger value first, then lower index (the straightforward argmax's tie rule). Bits of a
    /// non-negative float order like the float, so the key is (inverted bits, index) in one long, smallest first.
    /// </summary>
    private long Key(int i) => ((long)(0x7F800000 - BitConverter.SingleToInt32Bits(_value[i])) << 32) | (uint)i;

    /// <summary>Folds the picks made since point x's last update into its value.</summary>
    private void BringUpToDate(int x, float[] picks, int step)
    {
        int from = _upToDate[x];
        if (from == step) return;
        float value = _value[x];
        int span = step - from;
        if (span < 2 * PicksPerShare || _threads < 2)
        {
            value = MinDistance(x, picks, from, step, value);
        }
        else
        {
            int shares = (span + PicksPerShare - 1) / PicksPerShare;
            var partial = new float[shares];
            Parallel.For(0, shares, new ParallelOptions { MaxDegreeOfParallelism = _threads }, s =>
                partial[s] = MinDistance(x, picks, from + s * PicksPerShare, Math.Min(step, from + (s + 1) * PicksPerShare), value));
            foreach (float v in partial) value = Math.Min(value, v);
        }
        _value[x] = value;
        _upToDate[x] = step;
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
