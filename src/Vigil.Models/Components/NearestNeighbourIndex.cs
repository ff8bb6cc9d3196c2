using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Exact nearest-neighbour search over a fixed bank (PatchCore's memory bank), faster than a full distance matrix.
/// The bank is rotated once into its principal axes. A query is compared with every bank row only on the
/// <see cref="ScreenDimension"/> leading axes, where most of the variance lies; together with the norms r of the
/// remaining coordinates this bounds each row's squared distance from below (partial + (|r_q| − |r_b|)² ≤ d²: the
/// distance between the leading coordinates extended by one coordinate holding |r|, one matrix product). The exact
/// distances of a few probe rows (smallest bounds) cap the nearest distance; only rows whose bound does not exceed
/// that cap (plus a rounding margin) can be nearest, and their distances are computed directly in the original
/// coordinates (<see cref="PaddedRows.SquaredDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>); the smallest
/// wins, lowest row index on ties. Where the screen leaves many rows (features whose variance is spread over many
/// axes, small banks), screening on all coordinates is faster: one float32 matrix product ‖b‖² − 2 q·b, keeping the rows
/// within its worst-case rounding of the row minimum for the same exact check. The screen's product can also run in
/// bfloat16 (about three times faster where the CPU has bfloat16 dot-product instructions), its bounds then lowered by
/// the worst case of that rounding. All give the same answer, bit for bit; the index times them on its first query
/// block and uses the fastest from then on (or the one it is told to use).
/// </summary>
public sealed class NearestNeighbourIndex : INearestNeighbourSearch
{
    /// <summary>Relative margin on the bounds, far above the float rounding of the screening (about 1e-6).</summary>
    private const double Margin = 1e-3;

    /// <summary>Queries screened together: bounds the [queries, N] temporaries (256 × 60k floats = 60 MiB each).</summary>
    private const int QueryBlock = 256;

    /// <summary>Rows per query whose exact distance sets the cut: those with the smallest lower bounds.</summary>
    private const int Probes = 8;

    private readonly PaddedRows _bank;
    private readonly Tensor _rows, _norms;                          // the bank [N, D] as float32 and its squared norms [N]
    private readonly Tensor _mean, _axes, _head, _centredNorms; // _head: leading coordinates and the rest's norm, [N, p + 1]
    private readonly Tensor _headHalf;                            // _head in bfloat16
    private readonly float[] _headLengths;                        // per row: the Euclidean length of its _head row
    private readonly float _largestCentredNorm, _largestNorm;     // squared
    private volatile Strategy _strategy;                          // decided by timing every way on the first query block
    // Padded copies of earlier searches' queries, reused: a fresh multi-megabyte pinned array per image was garbage
    // the collector had to chase at every prediction.
    private readonly ConcurrentBag<PaddedRows> _queryBuffers = [];

    private NearestNeighbourIndex(PaddedRows bank, Tensor rows, Tensor norms, Tensor mean, Tensor axes, Tensor head, Tensor centredNorms,
        NearestNeighbourScreen screen)
    {
        (_bank, _rows, _norms, _mean, _axes, _head, _centredNorms) = (bank, rows, norms, mean, axes, head, centredNorms);
        _headHalf = head.to_type(ScalarType.BFloat16).DetachFromDisposeScope();
        _headLengths = MemoryMarshal.Cast<byte, float>(head.pow(2).sum(1).sqrt().contiguous().bytes).ToArray();
        _strategy = screen switch
        {
            NearestNeighbourScreen.PrincipalAxes => Strategy.Screen,
            NearestNeighbourScreen.PrincipalAxesBFloat16 => Strategy.HalfScreen,
            NearestNeighbourScreen.FullProduct => Strategy.FullProduct,
            _ => Strategy.Undecided,
        };
        (_largestCentredNorm, _largestNorm) = (centredNorms.max().item<float>(), norms.max().item<float>());
    }

    /// <summary>Leading principal axes on which every bank row is screened.</summary>
    public int ScreenDimension => (int)_axes.shape[1];

    /// <summary>Rows of the bank.</summary>
    public int Count => _bank.Count;

    /// <summary>Rows of the bank transformed together while indexing: bounds the temporaries (16 MiB of 1024-value rows).</summary>
    private const int BuildBlock = 4096;

    /// <summary>
    /// Indexes <paramref name="bank"/> [N, D] (copied); <paramref name="screenDimension"/> is capped at D. The bank is
    /// read block by block, so indexing needs the copy plus a few blocks, not several bank-sized temporaries.
    /// <paramref name="screen"/> fixes how candidates are screened instead of timing both ways (the answers are the same).
    /// </summary>
    public static NearestNeighbourIndex Build(Tensor bank, int screenDimension = 128, NearestNeighbourScreen screen = NearestNeighbourScreen.Timed)
    {
        if (bank.dim() != 2 || bank.shape[0] == 0) throw new ArgumentException("The bank must be a non-empty [N, D] tensor.", nameof(bank));
        if (screenDimension < 1) throw new ArgumentOutOfRangeException(nameof(screenDimension), "Screen dimension must be at least 1.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var rows = bank.to_type(ScalarType.Float32).contiguous();
        long n = rows.shape[0], d = rows.shape[1];
        var mean = rows.mean([0]);
        var covariance = zeros(new long[] { d, d }, ScalarType.Float64);
        ForEachBlock(rows, (_, block) =>
        {
            var centred = block - mean;
            covariance.add_(centred.t().matmul(centred).to_type(ScalarType.Float64));
        });
        var (_, vectors) = linalg.eigh(covariance); // ascending eigenvalues
        var axes = vectors.flip(1).narrow(1, 0, Math.Min(screenDimension, d)).to_type(ScalarType.Float32).contiguous();
        var head = empty(new long[] { n, axes.shape[1] + 1 }, ScalarType.Float32);
        var centredNorms = empty(new long[] { n }, ScalarType.Float32);
        var norms = empty(new long[] { n }, ScalarType.Float32);
        ForEachBlock(rows, (start, block) =>
        {
            long length = block.shape[0];
            var centred = block - mean;
            var leading = centred.matmul(axes);
            var blockCentredNorms = centred.pow(2).sum(1);
            var tail = (blockCentredNorms - leading.pow(2).sum(1)).clamp_min(0).sqrt().unsqueeze(1);
            head.narrow(0, start, length).copy_(cat([leading, tail], 1));
            centredNorms.narrow(0, start, length).copy_(blockCentredNorms);
            norms.narrow(0, start, length).copy_(block.pow(2).sum(1));
        });
        return new NearestNeighbourIndex(PaddedRows.FromTensor(rows), rows.DetachFromDisposeScope(), norms.DetachFromDisposeScope(),
            mean.DetachFromDisposeScope(), axes.DetachFromDisposeScope(), head.DetachFromDisposeScope(), centredNorms.DetachFromDisposeScope(), screen);
    }

    /// <summary>Runs <paramref name="action"/> on consecutive blocks of <see cref="BuildBlock"/> rows (with the first row's index), freeing each block's temporaries.</summary>
    private static void ForEachBlock(Tensor rows, Action<long, Tensor> action)
    {
        for (long start = 0; start < rows.shape[0]; start += BuildBlock)
        {
            using var scope = NewDisposeScope();
            action(start, rows.narrow(0, start, Math.Min(BuildBlock, rows.shape[0] - start)));
        }
    }

    /// <summary>
    /// For each query row [M, D], the squared Euclidean distance to its nearest bank row (computed directly as
    /// <see cref="PaddedRows.SquaredDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>) and that row's index; ties
    /// keep the lowest index. Returns float [M] and int64 [M].
    /// </summary>
    public (Tensor SquaredDistances, Tensor Indices) Search(Tensor queries)
    {
        if (queries.dim() != 2 || queries.shape[1] != _bank.Dimension)
            throw new ArgumentException($"Queries must be [M, {_bank.Dimension}], got [{string.Join(", ", queries.shape)}].", nameof(queries));
        using var noGrad = no_grad();
        int m = (int)queries.shape[0];
        if (!_queryBuffers.TryTake(out var query) || query.Count < m) query = new PaddedRows(m, _bank.Dimension);
        query.Fill(0, queries);
        var candidates = new int[m][];
        var distances = new float[m];
        var indices = new long[m];
        for (int start = 0, length; start < m; start += length)
        {
            using var scope = NewDisposeScope();
            var strategy = _strategy;
            // Without the screen, larger blocks make the product faster: up to 64 MiB of distances at a time.
            length = Math.Min(strategy == Strategy.FullProduct ? Math.Max(QueryBlock, (1 << 24) / Count) : QueryBlock, m - start);
            var block = queries.narrow(0, start, length).to_type(ScalarType.Float32);
            var (first, count) = (start, length);
            if (strategy == Strategy.Undecided)
            {
                // All ways give the same answer; the first block times them on this bank and CPU, later ones take the
                // fastest. Each is timed twice, alternating, and its faster run counts: a first run pays one-time costs
                // (compiling the scans, libtorch's first kernels, thread start-up) that would otherwise decide.
                var fastest = new Dictionary<Strategy, double>();
                for (int round = 0; round < 2; round++)
                    foreach (var way in new[] { Strategy.Screen, Strategy.HalfScreen, Strategy.FullProduct })
                    {
                        double ms = Timing(() => { SetCandidates(way, block, query, candidates, first); Resolve(query, candidates, first, count, distances, indices); });
                        fastest[way] = Math.Min(fastest.GetValueOrDefault(way, double.PositiveInfinity), ms);
                    }
                _strategy = fastest.MinBy(p => p.Value).Key;
                continue;
            }
            SetCandidates(strategy, block, query, candidates, start);
            Resolve(query, candidates, start, length, distances, indices);
        }
        _queryBuffers.Add(query);
        return (tensor(distances), tensor(indices));
    }

    private void SetCandidates(Strategy way, Tensor block, PaddedRows query, int[][] candidates, int start)
    {
        if (way == Strategy.Screen) Screen(block, query, candidates, start);
        else if (way == Strategy.HalfScreen) HalfScreen(block, query, candidates, start);
        else FullScreen(block, candidates, start);
    }

    /// <summary>
    /// Sets the candidates of the queries [L, D] (rows start … start + L − 1) by the principal-axes screen. The bounds
    /// come from one matrix product; each query's row of them is then scanned twice in managed code, for its probes and
    /// for the rows under its cut (libtorch's topk, comparison and nonzero over the [L, N] block took about a third of a
    /// search on an MTD bank).
    /// </summary>
    private void Screen(Tensor block, PaddedRows query, int[][] candidates, int start)
    {
        int length = (int)block.shape[0], n = Count;
        var (heads, queryNorms) = QueryHeads(block);
        // ‖c_b‖² − 2·(h_q·h_b + t_q·t_b): the lower bound minus the query's own norm, one matrix product.
        var lower = _centredNorms.unsqueeze(0).addmm(heads, _head.t(), beta: 1, alpha: -2).contiguous();
        Parallel.For(0, length, Threads(), q =>
        {
            var bounds = MemoryMarshal.Cast<byte, float>(lower.bytes).Slice(q * n, n);
            candidates[start + q] = AtMost(bounds, Cut(bounds, query.Row(start + q), queryNorms[q]));
        });
    }

    /// <summary>The queries' leading coordinates with the rest's norm appended, [L, p + 1], and their centred squared norms.</summary>
    private (Tensor Heads, float[] CentredNorms) QueryHeads(Tensor block)
    {
        var centred = block - _mean;
        var head = centred.matmul(_axes);
        var centredNorms = centred.pow(2).sum(1, keepdim: true);
        var tail = (centredNorms - head.pow(2).sum(1, keepdim: true)).clamp_min(0).sqrt();
        return (cat([head, tail], 1), centredNorms.contiguous().data<float>().ToArray());
    }

    /// <summary>
    /// The largest bound (minus the query's centred norm) a row can have and still be nearest: the exact distance of the
    /// few rows with the smallest bounds caps the nearest distance, plus a margin for the screen's float rounding, which
    /// grows with the vectors' size.
    /// </summary>
    private float Cut(ReadOnlySpan<float> bounds, ReadOnlySpan<float> query, float queryNorm)
    {
        float cap = float.PositiveInfinity;
        foreach (int probe in Smallest(bounds, Probes))
            cap = Math.Min(cap, PaddedRows.SquaredDistance(query, _bank.Row(probe)));
        return (float)(cap - queryNorm + Margin * (queryNorm + _largestCentredNorm));
    }

    /// <summary>
    /// Bound on bfloat16's rounding of the screen's product, as a multiple of the two rows' lengths: rounding each input to
    /// bfloat16 (unit roundoff u = 2⁻⁸) moves a dot product by at most (2u + u²)·‖x‖‖y‖ (Cauchy–Schwarz), the float32
    /// accumulation of 129 terms by ~8e-6·‖x‖‖y‖, the bfloat16 result by u·|x·y|: under 3.1u·‖x‖‖y‖ together, taken as 4u;
    /// the bound holds twice the product.
    /// </summary>
    private const float HalfRounding = 2 * 4 / 256f;

    /// <summary>
    /// <see cref="Screen"/> with the product in bfloat16: each bound is lowered by <see cref="HalfRounding"/>·‖x‖‖y‖ for
    /// its query and row, so it still never exceeds the exact one (the float32 rounding is covered by the margin as there),
    /// and the same cut applies.
    /// </summary>
    private void HalfScreen(Tensor block, PaddedRows query, int[][] candidates, int start)
    {
        int length = (int)block.shape[0], n = Count;
        var (heads, queryNorms) = QueryHeads(block);
        var products = heads.to_type(ScalarType.BFloat16).matmul(_headHalf.t()).contiguous(); // h_q·h_b + t_q·t_b, [L, N]
        var queryLengths = heads.pow(2).sum(1).sqrt().contiguous().data<float>().ToArray();
        Parallel.For(0, length, Threads(), q =>
        {
            var product = MemoryMarshal.Cast<byte, ushort>(products.bytes).Slice(q * n, n);
            var rented = ArrayPool<float>.Shared.Rent(n);
            var bounds = rented.AsSpan(0, n);
            LowerBounds(product, MemoryMarshal.Cast<byte, float>(_centredNorms.bytes), _headLengths, HalfRounding * queryLengths[q], bounds);
            candidates[start + q] = AtMost(bounds, Cut(bounds, query.Row(start + q), queryNorms[q]));
            ArrayPool<float>.Shared.Return(rented);
        });
    }

    // The scans below run a few hundred times per image: too few for tiered compilation to optimise them in time.

    /// <summary>
    /// ‖c_b‖² − 2·product − slack·length_b for each row, the bfloat16 products widened to float (their bits are float's
    /// upper half).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LowerBounds(ReadOnlySpan<ushort> products, ReadOnlySpan<float> centredNorms, ReadOnlySpan<float> lengths, float slack,
        Span<float> bounds)
    {
        for (int b = 0; b < products.Length; b++)
            bounds[b] = centredNorms[b] - 2 * BitConverter.Int32BitsToSingle(products[b] << 16) - slack * lengths[b];
    }

    /// <summary>Indices of the <paramref name="count"/> smallest values (fewer if the span is shorter), ascending by value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int[] Smallest(ReadOnlySpan<float> values, int count)
    {
        count = Math.Min(count, values.Length);
        Span<float> kept = stackalloc float[count];
        var indices = new int[count];
        int filled = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (filled == count && !(v < kept[count - 1])) continue;
            int slot = filled < count ? filled++ : count - 1;
            for (; slot > 0 && kept[slot - 1] > v; slot--) (kept[slot], indices[slot]) = (kept[slot - 1], indices[slot - 1]);
            (kept[slot], indices[slot]) = (v, i);
        }
        return indices[..filled];
    }

    /// <summary>Indices of the values at most <paramref name="cut"/>, ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int[] AtMost(ReadOnlySpan<float> values, float cut)
    {
        int count = 0;
        foreach (float v in values)
            if (v <= cut) count++;
        var indices = new int[count];
        for (int i = 0, k = 0; k < count; i++)
            if (values[i] <= cut) indices[k++] = i;
        return indices;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Min(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity;
        foreach (float v in values) min = Math.Min(min, v);
        return min;
    }

    /// <summary>The scans and exact distances use as many threads as libtorch.</summary>
    private static ParallelOptions Threads() => new() { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) };

    /// <summary>Each query's exact nearest among its candidates (the lowest index on ties).</summary>
    private void Resolve(PaddedRows query, int[][] candidates, int start, int length, float[] distances, long[] indices) =>
        Parallel.For(start, start + length, Threads(), q =>
        {
            float best = float.PositiveInfinity;
            int bestIndex = int.MaxValue;
            _bank.FoldNearest(query.Row(q), candidates[q], ref best, ref bestIndex);
            distances[q] = best;
            indices[q] = bestIndex;
        });

    private static double Timing(Action action)
    {
        long begin = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
    }

    private enum Strategy { Undecided, Screen, HalfScreen, FullProduct }

    /// <summary>The screen in use: "principal axes", "principal axes in bfloat16", "full product", or "not yet timed" before the first search.</summary>
    public string ScreenInUse => _strategy switch
    {
        Strategy.Screen => "principal axes",
        Strategy.HalfScreen => "principal axes in bfloat16",
        Strategy.FullProduct => "full product",
        _ => "not yet timed",
    };

    /// <summary>
    /// Sets the candidates of the queries [L, D] (rows start … start + L − 1) by the all-coordinate product ‖b‖² − 2 q·b:
    /// the rows within its rounding bound of the row minimum, ascending. A float32 dot product of D terms errs by at most
    /// about D·2⁻²⁴·‖q‖‖b‖ (≤ half of D·2⁻²⁴·(‖q‖² + ‖b‖²)), and two such distances are compared, each also carrying the
    /// rounding of ‖b‖²: 4·D·2⁻²⁴·(‖q‖² + max ‖b‖²) covers both.
    /// </summary>
    private void FullScreen(Tensor queries, int[][] candidates, int start)
    {
        using var scope = NewDisposeScope();
        int length = (int)queries.shape[0], n = Count;
        var partial = _norms.unsqueeze(0).addmm(queries, _rows.t(), beta: 1, alpha: -2).contiguous();
        var queryNorms = queries.pow(2).sum(1).contiguous().data<float>().ToArray();
        double relative = 4.0 * _bank.Dimension * Math.Pow(2, -24);
        Parallel.For(0, length, Threads(), q =>
        {
            var row = MemoryMarshal.Cast<byte, float>(partial.bytes).Slice(q * n, n);
            candidates[start + q] = AtMost(row, Min(row) + (float)(relative * (queryNorms[q] + _largestNorm)));
        });
    }

    public void Dispose()
    {
        foreach (var t in new[] { _rows, _norms, _mean, _axes, _head, _headHalf, _centredNorms }) t.Dispose();
    }
}

/// <summary>How <see cref="NearestNeighbourIndex"/> picks the candidates it checks exactly; every choice gives the same answers.</summary>
public enum NearestNeighbourScreen
{
    /// <summary>Time every way on the first query block and keep the fastest (the default).</summary>
    Timed,
    /// <summary>Lower bounds from the leading principal axes.</summary>
    PrincipalAxes,
    /// <summary>The same bounds from a bfloat16 product, lowered by its worst-case rounding.</summary>
    PrincipalAxesBFloat16,
    /// <summary>One float32 product on every coordinate.</summary>
    FullProduct,
}
