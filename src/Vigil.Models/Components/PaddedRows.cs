using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Float vectors stored row-major, each row zero-padded to a multiple of <see cref="Alignment"/> values, with a SIMD
/// squared Euclidean distance whose float rounding is fixed by its summation order (see <see cref="SquaredDistance"/>),
/// so the same pair of rows always gives the same bits, whoever asks and in whatever order.
/// </summary>
public sealed class PaddedRows
{
    /// <summary>Rows are padded with zeros to a multiple of this many values (four 8-lane vectors).</summary>
    public const int Alignment = 32;

    public PaddedRows(int count, int dimension)
    {
        if (count < 0 || dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), $"Cannot hold {count} rows of {dimension} values.");
        Count = count;
        Dimension = dimension;
        Stride = (dimension + Alignment - 1) / Alignment * Alignment;
        // The pinned heap, not the large-object heap: a bank or projection of hundreds of megabytes that survives on the
        // large-object heap raises the allocation budget before the collector looks at that heap again, so image-sized
        // garbage piled up to a gigabyte around it (PatchCore calibrating on MTD).
        Values = GC.AllocateArray<float>(checked((int)((long)count * Stride)), pinned: true);
    }

    public int Count { get; }
    public int Dimension { get; }

    /// <summary>Values per stored row: <see cref="Dimension"/> rounded up to a multiple of <see cref="Alignment"/>.</summary>
    public int Stride { get; }

    /// <summary>Row i occupies [i·Stride, i·Stride + Dimension); the padding stays zero.</summary>
    public float[] Values { get; }

    /// <summary>Copies a float [N, D] tensor; non-finite values are rejected (they would make every distance NaN).</summary>
    public static PaddedRows FromTensor(Tensor rows)
    {
        if (rows.dim() != 2) throw new ArgumentException($"Expected [N, D] rows, got a tensor of rank {rows.dim()}.", nameof(rows));
        var rowsOut = new PaddedRows((int)rows.shape[0], (int)rows.shape[1]);
        rowsOut.Fill(0, rows);
        return rowsOut;
    }

    /// <summary>Copies a float [n, D] tensor into rows <paramref name="firstRow"/> … firstRow + n − 1; non-finite values are rejected.</summary>
    public void Fill(int firstRow, Tensor rows)
    {
        if (rows.dim() != 2 || rows.shape[1] != Dimension || firstRow < 0 || firstRow + rows.shape[0] > Count)
            throw new ArgumentException($"Cannot copy [{string.Join(", ", rows.shape)}] rows to row {firstRow} of {Count} rows of {Dimension} values.", nameof(rows));
        int d = Dimension;
        // Chunks keep each span of the tensor's memory (read in place, no managed copy) below 2 GiB.
        int chunkRows = Math.Max(1, (1 << 24) / d);
        for (int start = 0; start < rows.shape[0]; start += chunkRows)
        {
            using var scope = NewDisposeScope();
            var chunk = rows.narrow(0, start, Math.Min(chunkRows, rows.shape[0] - start)).to_type(ScalarType.Float32).contiguous();
            var values = MemoryMarshal.Cast<byte, float>(chunk.bytes);
            for (int i = 0; i < chunk.shape[0]; i++)
            {
                var row = values.Slice(i * d, d);
                if (!AllFinite(row, out int bad))
                    throw new VigilInputException($"Feature row {firstRow + start + i}, value {bad} is {row[bad]}; features must be finite numbers.");
                row.CopyTo(Values.AsSpan((int)((long)(firstRow + start + i) * Stride), d));
            }
        }
    }

    private static bool AllFinite(ReadOnlySpan<float> values, out int firstBad)
    {
        for (firstBad = 0; firstBad < values.Length; firstBad++)
            if (!float.IsFinite(values[firstBad])) return false;
        return true;
    }

    /// <summary>Row <paramref name="i"/> including its zero padding.</summary>
    public ReadOnlySpan<float> Row(int i) => Values.AsSpan((int)((long)i * Stride), Stride);

    /// <summary>
    /// Folds rows <paramref name="candidates"/> into a running nearest neighbour of <paramref name="query"/> (a padded
    /// row): a smaller squared distance wins, an equal one keeps the lower row index, so the answer does not depend on
    /// the order the candidates come in. Start from +∞ and <see cref="int.MaxValue"/>.
    /// </summary>
    public void FoldNearest(ReadOnlySpan<float> query, ReadOnlySpan<int> candidates, ref float best, ref int bestIndex)
    {
        foreach (int b in candidates)
        {
            float d = SquaredDistance(query, Row(b));
            if (d < best || (d == best && b < bestIndex)) (best, bestIndex) = (d, b);
        }
    }

    /// <summary>Squared distance between rows <paramref name="i"/> and <paramref name="j"/> of this set.</summary>
    public float SquaredDistance(int i, int j) => SquaredDistance(Row(i), Row(j));

    /// <summary>
    /// Σ (a_t − b_t)² over two padded rows of equal length (a multiple of 32), in float, in this fixed order: 32
    /// running sums s_0…s_31, value t added to s_(t mod 32) in increasing t; then lane l (0…7) is
    /// (s_l + s_(8+l)) + (s_(16+l) + s_(24+l)); then h_l = lane_l + lane_(l+4) for l &lt; 4; the result is
    /// (h_0 + h_2) + (h_1 + h_3). Products and sums are rounded separately (no fused multiply-add).
    /// </summary>
    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length || a.Length % Alignment != 0)
            throw new ArgumentException($"Rows of {a.Length} and {b.Length} values must have the same length, a multiple of {Alignment}.");
        return Squared(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length, float.PositiveInfinity);
    }

    /// <summary>
    /// The squared distance of <see cref="SquaredDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>, or, as soon as
    /// the sum over a leading part of the row reaches <paramref name="limit"/>, that partial sum (never more than the
    /// full value: all terms are non-negative and float rounding is monotone).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Squared(ref float a, ref float b, int length, float limit)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int t = 0; t < length; t += Alignment)
        {
            var d0 = Vector256.LoadUnsafe(ref a, (nuint)t) - Vector256.LoadUnsafe(ref b, (nuint)t);
            var d1 = Vector256.LoadUnsafe(ref a, (nuint)(t + 8)) - Vector256.LoadUnsafe(ref b, (nuint)(t + 8));
            var d2 = Vector256.LoadUnsafe(ref a, (nuint)(t + 16)) - Vector256.LoadUnsafe(ref b, (nuint)(t + 16));
            var d3 = Vector256.LoadUnsafe(ref a, (nuint)(t + 24)) - Vector256.LoadUnsafe(ref b, (nuint)(t + 24));
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            if (limit != float.PositiveInfinity && t + Alignment < length)
            {
                float partial = Reduce(s0, s1, s2, s3);
                if (partial >= limit) return partial;
            }
        }
        return Reduce(s0, s1, s2, s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        var lanes = (s0 + s1) + (s2 + s3);
        var halves = lanes.GetLower() + lanes.GetUpper();
        return (halves.GetElement(0) + halves.GetElement(2)) + (halves.GetElement(1) + halves.GetElement(3));
    }
}
