using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vigil.Metrics;

/// <summary>
/// Scores packed with a payload into one 64-bit key and sorted once: the high 32 bits are the score's bits in an
/// order-preserving form, the low 32 bits a payload (0 = normal sample; &gt;0 = anomalous, the value names its region or
/// channel group). Every threshold metric walks this one order from the highest score down, one group of equal scores
/// at a time, so ties are handled the same way everywhere (a threshold sits at each distinct score).
/// </summary>
internal static class RankedScores
{
    public static ulong Pack(float score, uint payload) => ((ulong)OrderedBits(score) << 32) | payload;

    /// <summary>Maps a float to a uint with the same order; -0 and +0 become one value so they tie as they compare.</summary>
    public static uint OrderedBits(float f)
    {
        if (f == 0f) f = 0f;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    internal static float FromOrderedBits(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>
    /// LSD radix sort on the high 32 bits only (4 passes of 8 bits; 256 write streams stay TLB-friendly, measured a
    /// little faster than 3 passes of 11 bits on 10^8 keys): the payload order within a tie does not
    /// matter, ties are walked as one group. O(n) — a comparison sort of 10^8 keys takes many seconds. Large arrays
    /// are counted and scattered in one chunk per core (each chunk scatters to its own precomputed offsets, which keeps
    /// every pass stable as LSD needs). Returns the sorted array: <paramref name="keys"/> or the scratch buffer,
    /// whichever the last pass wrote (saves copying it back); the other one is garbage afterwards.
    /// </summary>
    public static ulong[] SortByScore(ulong[] keys)
    {
        const int DigitBits = 8;
        int n = keys.Length;
        int chunks = n < 1 << 20 ? 1 : Math.Min(Environment.ProcessorCount, 16);
        int chunkSize = (n + chunks - 1) / Math.Max(chunks, 1);
        ulong[] src = keys;
        ulong[]? scratch = null;
        var counts = new int[chunks][];
        for (int c = 0; c < chunks; c++) counts[c] = new int[1 << DigitBits];
        for (int shift = 32; shift < 64; shift += DigitBits)
        {
            int mask = (1 << Math.Min(DigitBits, 64 - shift)) - 1;
            var from = src;
            Parallel.For(0, chunks, c => CountDigits(from, c * chunkSize, Math.Min(n, (c + 1) * chunkSize), shift, mask, counts[c]));
            // Prefix over (digit, chunk); a digit shared by every key makes the pass a plain copy: skip it.
            int running = 0;
            bool trivial = false;
            for (int d = 0; d <= mask; d++)
            {
                int start = running;
                for (int c = 0; c < chunks; c++) { int k = counts[c][d]; counts[c][d] = running; running += k; }
                if (running - start == n) trivial = true;
            }
            if (trivial) continue;
            scratch ??= GC.AllocateUninitializedArray<ulong>(n);
            var to = ReferenceEquals(src, keys) ? scratch : keys;
            Parallel.For(0, chunks, c => Scatter(from, to, c * chunkSize, Math.Min(n, (c + 1) * chunkSize), shift, mask, counts[c]));
            src = to;
        }
        return src;
    }

    // The two hot loops of the sort live in static methods so their state stays in registers (a lambda's captured
    // variables are heap fields), and index without bounds checks: digits are masked and offsets come from the counts.
    private static void CountDigits(ulong[] keys, int start, int end, int shift, int mask, int[] counts)
    {
        Array.Clear(counts);
        ref ulong key = ref MemoryMarshal.GetArrayDataReference(keys);
        ref int count = ref MemoryMarshal.GetArrayDataReference(counts);
        for (int i = start; i < end; i++) Unsafe.Add(ref count, (int)(Unsafe.Add(ref key, i) >> shift) & mask)++;
    }

    private static void Scatter(ulong[] from, ulong[] to, int start, int end, int shift, int mask, int[] offsets)
    {
        ref ulong source = ref MemoryMarshal.GetArrayDataReference(from);
        ref ulong target = ref MemoryMarshal.GetArrayDataReference(to);
        ref int offset = ref MemoryMarshal.GetArrayDataReference(offsets);
        for (int i = start; i < end; i++)
        {
            ulong k = Unsafe.Add(ref source, i);
            Unsafe.Add(ref target, Unsafe.Add(ref offset, (int)(k >> shift) & mask)++) = k;
        }
    }

    /// <summary>
    /// Walks a sorted key array from the highest score down and reports, at the end of each group of equal scores,
    /// the score and the cumulative counts of anomalous (payload &gt; 0) and normal keys at or above it.
    /// </summary>
    public static void Sweep<T>(ulong[] sorted, ref T visitor) where T : struct, ISweepVisitor
    {
        long positives = 0;
        int last = sorted.Length - 1, i = last;
        ref ulong first = ref MemoryMarshal.GetArrayDataReference(sorted);
        while (i >= 0)
        {
            ulong key = Unsafe.Add(ref first, i);
            ulong high = key >> 32;
            while (true)
            {
                uint payload = (uint)key;
                if (visitor.UsesPayload)
                {
                    if (payload != 0) { positives++; visitor.OnPositive(payload); }
                }
                else positives += payload != 0 ? 1 : 0; // branch-free: most groups mix classes at random
                if (--i < 0) break;
                key = Unsafe.Add(ref first, i);
                if (key >> 32 != high) break;
            }
            if (!visitor.OnThreshold(FromOrderedBits((uint)high), positives, last - i - positives)) return;
        }
    }
}

/// <summary>
/// Keys sorted by score that can be walked like <see cref="RankedScores.Sweep{T}"/>: an array in memory
/// (<see cref="SortedArray"/>) or per-image runs merged from disk (<see cref="PixelRuns"/>).
/// </summary>
internal interface ISortedKeys
{
    void Sweep<T>(ref T visitor) where T : struct, ISweepVisitor;
}

/// <summary>A key array sorted by <see cref="RankedScores.SortByScore"/>.</summary>
internal sealed class SortedArray(ulong[] sorted) : ISortedKeys
{
    public void Sweep<T>(ref T visitor) where T : struct, ISweepVisitor => RankedScores.Sweep(sorted, ref visitor);
}

/// <summary>Callback of <see cref="RankedScores.Sweep{T}"/>; a struct so the JIT inlines it into the loop.</summary>
internal interface ISweepVisitor
{
    /// <summary>Whether <see cref="OnPositive"/> is wanted; a constant per visitor type, so the JIT drops the other path.</summary>
    bool UsesPayload { get; }

    /// <summary>Called for every anomalous key, before the threshold that includes it is reported.</summary>
    void OnPositive(uint payload);

    /// <summary>Called once per distinct score (descending) with cumulative counts at score &gt;= threshold; false stops.</summary>
    bool OnThreshold(float threshold, long positives, long negatives);
}
