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

    public static float ScoreOf(ulong key) => FromOrderedBits((uint)(key >> 32));

    /// <summary>Maps a float to a uint with the same order; -0 and +0 become one value so they tie as they compare.</summary>
    public static uint OrderedBits(float f)
    {
        if (f == 0f) f = 0f;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    private static float FromOrderedBits(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>
    /// LSD radix sort on the high 32 bits only (3 passes of 11/11/10 bits); stable, so the payload order within a
    /// tie does not matter. O(n) — a comparison sort of 10^8 keys takes seconds, this well under one.
    /// </summary>
    public static void SortByScore(ulong[] keys)
    {
        const int Passes = 3;
        ReadOnlySpan<int> shifts = [32, 43, 54];
        ReadOnlySpan<int> widths = [11, 11, 10];
        var counts = new int[Passes][];
        for (int p = 0; p < Passes; p++) counts[p] = new int[1 << widths[p]];
        foreach (ulong k in keys)
        {
            counts[0][(int)(k >> 32) & 0x7FF]++;
            counts[1][(int)(k >> 43) & 0x7FF]++;
            counts[2][(int)(k >> 54) & 0x3FF]++;
        }

        ulong[]? scratch = null;
        ulong[] src = keys;
        for (int p = 0; p < Passes; p++)
        {
            var count = counts[p];
            if (Array.IndexOf(count, keys.Length) >= 0) continue; // all keys share this digit: pass would be a copy
            scratch ??= GC.AllocateUninitializedArray<ulong>(keys.Length);
            ulong[] dst = ReferenceEquals(src, keys) ? scratch : keys;
            int sum = 0;
            for (int i = 0; i < count.Length; i++) { int c = count[i]; count[i] = sum; sum += c; }
            int shift = shifts[p], mask = (1 << widths[p]) - 1;
            for (int i = 0; i < src.Length; i++)
            {
                ulong k = src[i];
                dst[count[(int)(k >> shift) & mask]++] = k;
            }
            src = dst;
        }
        if (!ReferenceEquals(src, keys)) Array.Copy(src, keys, keys.Length);
    }

    /// <summary>
    /// Walks a sorted key array from the highest score down and reports, at the end of each group of equal scores,
    /// the score and the cumulative counts of anomalous (payload &gt; 0) and normal keys at or above it.
    /// </summary>
    public static void Sweep<T>(ulong[] sorted, ref T visitor) where T : struct, ISweepVisitor
    {
        long positives = 0, negatives = 0;
        int i = sorted.Length - 1;
        while (i >= 0)
        {
            ulong high = sorted[i] >> 32;
            do
            {
                uint payload = (uint)sorted[i];
                if (payload == 0) negatives++;
                else { positives++; visitor.OnPositive(payload); }
                i--;
            } while (i >= 0 && sorted[i] >> 32 == high);
            if (!visitor.OnThreshold(FromOrderedBits((uint)high), positives, negatives)) return;
        }
    }
}

/// <summary>Callback of <see cref="RankedScores.Sweep{T}"/>; a struct so the JIT inlines it into the loop.</summary>
internal interface ISweepVisitor
{
    /// <summary>Called for every anomalous key, before the threshold that includes it is reported.</summary>
    void OnPositive(uint payload);

    /// <summary>Called once per distinct score (descending) with cumulative counts at score &gt;= threshold; false stops.</summary>
    bool OnThreshold(float threshold, long positives, long negatives);
}
