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
/// within its worst-case rounding of the row minimum for the same exact check. Both give the same answer, bit for bit;
/// the index times both on its first query block and uses the faster from then on (or the one it is told to use).
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
    private readonly float _largestCentredNorm, _largestNorm;     // squared
    private volatile Strategy _strategy;                          // decided by timing both ways on the first query block
    // Padded copies of earlier searches' queries, reused: a fresh multi-megabyte pinned array per image was garbage
    // the collector had to chase at every prediction.
    private readonly ConcurrentBag<PaddedRows> _queryBuffers = [];

    private NearestNeighbourIndex(PaddedRows bank, Tensor rows, Tensor norms, Tensor mean, Tensor axes, Tensor head, Tensor centredNorms,
        NearestNeighbourScreen screen)
    {
        (_bank, _rows, _norms, _mean, _axes, _head, _centredNorms) = (bank, rows, norms, mean, axes, head, centredNorms);
        _strategy = screen switch
        {
            NearestNeighbourScreen.PrincipalAxes => Strategy.Screen,
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
                // Both ways give the same answer; the first block times them on this bank and CPU, later ones take the
                // faster. Each is timed twice, alternating, and its faster run counts: a first run pays one-time costs
                // (compiling the scans, libtorch's first kernels, thread start-up) that would otherwise decide.
                double screened = double.PositiveInfinity, full = double.PositiveInfinity;
                for (int round = 0; round < 2; round++)
                {
                    screened = Math.Min(screened, Timing(() => { Screen(block, query, candidates, first); Resolve(query, candidates, first, count, distances, indices); }));
                    full = Math.Min(full, Timing(() => { FullScreen(block, candidates, first); Resolve(query, candidates, first, count, distances, indices); }));
                }
                _strategy = screened <= full ? Strategy.Screen : Strategy.FullProduct;
                continue;
            }
            if (strategy == Strategy.Screen) Screen(block, query, candidates, start);
            else FullScreen(block, candidates, start);
            Resolve(query, candidates, start, length, distances, indices);
        }
        _queryBuffers.Add(query);
        return (tensor(distances), tensor(indices));
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
        var centred = block - _mean;
        var head = centred.matmul(_axes);
        var centredNorms = centred.pow(2).sum(1, keepdim: true);
        var tail = (centredNorms - head.pow(2).sum(1, keepdim: true)).clamp_min(0).sqrt();
        // ‖c_b‖² − 2·(h_q·h_b + t_q·t_b): the lower bound minus the query's own norm, one matrix product.
        var lower = _centredNorms.unsqueeze(0).addmm(cat([head, tail], 1), _head.t(), beta: 1, alpha: -2).contiguous();
        var queryNorms = centredNorms.contiguous().data<float>().ToArray();
        Parallel.For(0, length, Threads(), q =>
        {
            var bounds = MemoryMarshal.Cast<byte, float>(lower.bytes).Slice(q * n, n);
            // The exact distance of the few rows with the smallest lower bounds caps the nearest distance.
            float cap = float.PositiveInfinity;
            foreach (int probe in Smallest(bounds, Probes))
                cap = Math.Min(cap, PaddedRows.SquaredDistance(query.Row(start + q), _bank.Row(probe)));
            // Rounding of the screening grows with the vectors' size, so the margin is relative to it.
            double margin = Margin * (queryNorms[q] + _largestCentredNorm);
            candidates[start + q] = AtMost(bounds, (float)(cap - queryNorms[q] + margin));
        });
    }

    // The scans below run a few hundred times per image: too few for tiered compilation to optimise them in time.

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

    private enum Strategy { Undecided, Screen, FullProduct }

    /// <summary>The screen in use: "principal axes", "full product", or "not yet timed" before the first search.</summary>
    public string ScreenInUse => _strategy switch { Strategy.Screen => "principal axes", Strategy.FullProduct => "full product", _ => "not yet timed" };

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
        foreach (var t in new[] { _rows, _norms, _mean, _axes, _head, _centredNorms }) t.Dispose();
    }
}

/// <summary>How <see cref="NearestNeighbourIndex"/> picks the candidates it checks exactly; every choice gives the same answers.</summary>
public enum NearestNeighbourScreen
{
    /// <summary>Time both on the first query block and keep the faster (the default).</summary>
    Timed,
    /// <summary>Lower bounds from the leading principal axes.</summary>
    PrincipalAxes,
    /// <summary>One float32 product on every coordinate.</summary>
    FullProduct,
}
