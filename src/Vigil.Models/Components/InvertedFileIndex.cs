using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Approximate nearest-neighbour search over a fixed bank by an inverted file (IVF, as faiss's IndexIVFFlat): k-means
/// splits the bank into <see cref="Lists"/> lists by nearest centre; a query is compared exactly
/// (<see cref="PaddedRows.SquaredDistance(ReadOnlySpan{float}, ReadOnlySpan{float})"/>) with the rows of its
/// <see cref="Probes"/> nearest lists only. The answer may miss the true nearest row when it lies in a list not probed
/// (then the distance is larger); probing every list gives the exact answer. For very large banks, where the exact
/// <see cref="NearestNeighbourIndex"/> must still look at every row.
/// </summary>
public sealed class InvertedFileIndex : INearestNeighbourSearch
{
    /// <summary>Training rows per list for k-means at most, as faiss's default max_points_per_centroid.</summary>
    private const int TrainingRowsPerList = 256;

    private readonly PaddedRows _bank;
    private readonly Tensor _centres; // [lists, D] of the non-empty lists
    private readonly int[][] _members; // bank rows of each list, ascending

    private InvertedFileIndex(PaddedRows bank, Tensor centres, int[][] members, int probes)
    {
        (_bank, _centres, _members) = (bank, centres, members);
        Probes = Math.Min(probes, members.Length);
    }

    public int Count => _bank.Count;

    /// <summary>Lists the bank is split into (k-means centres left without rows are dropped).</summary>
    public int Lists => _members.Length;

    /// <summary>Lists searched per query (capped at <see cref="Lists"/>).</summary>
    public int Probes { get; }

    /// <summary>The default number of lists for a bank of <paramref name="rows"/>: ⌈4√N⌉ (faiss's guidance: 4√N to 16√N), at most N.</summary>
    public static int DefaultLists(long rows) => (int)Math.Min(rows, Math.Ceiling(4 * Math.Sqrt(rows)));

    /// <summary>
    /// Indexes <paramref name="bank"/> [N, D] (copied): k-means (<see cref="KMeans"/>, 20 iterations) on at most 256 rows
    /// per list drawn with <paramref name="seed"/>, then every row into its nearest centre's list.
    /// </summary>
    public static InvertedFileIndex Build(Tensor bank, int lists, int probes, long seed)
    {
        if (bank.dim() != 2 || bank.shape[0] == 0) throw new ArgumentException("The bank must be a non-empty [N, D] tensor.", nameof(bank));
        long n = bank.shape[0];
        if (lists < 1 || lists > n) throw new ArgumentOutOfRangeException(nameof(lists), $"{lists} lists for a bank of {n} rows: give 1 … {n}.");
        if (probes < 1) throw new ArgumentOutOfRangeException(nameof(probes), "At least one list must be probed.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var rows = bank.to_type(ScalarType.Float32).contiguous();
        var generator = new Generator((ulong)seed);
        long trainingRows = Math.Min(n, (long)lists * TrainingRowsPerList);
        var training = trainingRows == n ? rows : rows.index_select(0, randperm(n, generator: generator).narrow(0, 0, trainingRows));
        var centres = KMeans.Centres(training, lists, maxIterations: 20, tolerance: 1e-4, generator);
        var assignment = NearestNeighbours.Search(rows, centres).Indices.squeeze(1).contiguous().data<long>().ToArray();
        var members = new List<int>[lists];
        for (int l = 0; l < lists; l++) members[l] = [];
        for (int i = 0; i < assignment.Length; i++) members[assignment[i]].Add(i);
        // A centre no row is nearest to (duplicate rows) would only waste a probe.
        var used = Enumerable.Range(0, lists).Where(l => members[l].Count > 0).ToArray();
        return new InvertedFileIndex(PaddedRows.FromTensor(rows), centres.index_select(0, tensor(used.Select(l => (long)l).ToArray())).DetachFromDisposeScope(),
            used.Select(l => members[l].ToArray()).ToArray(), probes);
    }

    /// <summary>
    /// For each query row [M, D], the squared distance to the nearest bank row among the probed lists and that row's
    /// index (lowest index on ties). Returns float [M] and int64 [M].
    /// </summary>
    public (Tensor SquaredDistances, Tensor Indices) Search(Tensor queries) => Search(queries, Probes);

    /// <summary>As <see cref="Search(Tensor)"/>, probing <paramref name="probes"/> lists (capped at <see cref="Lists"/>).</summary>
    public (Tensor SquaredDistances, Tensor Indices) Search(Tensor queries, int probes)
    {
        if (probes < 1) throw new ArgumentOutOfRangeException(nameof(probes), "At least one list must be probed.");
        probes = Math.Min(probes, Lists);
        if (queries.dim() != 2 || queries.shape[1] != _bank.Dimension)
            throw new ArgumentException($"Queries must be [M, {_bank.Dimension}], got [{string.Join(", ", queries.shape)}].", nameof(queries));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int m = (int)queries.shape[0];
        var block = queries.to_type(ScalarType.Float32);
        var probed = NearestNeighbours.SquaredDistances(block, _centres).topk(probes, dim: 1, largest: false).indexes.contiguous().data<long>().ToArray();
        var query = PaddedRows.FromTensor(block);
        var distances = new float[m];
        var indices = new long[m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) }, q =>
        {
            float best = float.PositiveInfinity;
            int bestIndex = int.MaxValue;
            var row = query.Row(q);
            for (int p = 0; p < probes; p++) _bank.FoldNearest(row, _members[probed[q * probes + p]], ref best, ref bestIndex);
            distances[q] = best;
            indices[q] = bestIndex;
        });
        return (tensor(distances).MoveToOuterDisposeScope(), tensor(indices).MoveToOuterDisposeScope());
    }

    public void Dispose() => _centres.Dispose();
}
