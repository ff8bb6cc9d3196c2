using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Sufficient statistics of PaDiM's per-position Gaussians in float64: the sample count, each position's mean
/// [P, D] and scatter matrix Σ (x − μ)(x − μ)ᵀ [P, D, D]. Two sets merge exactly (Chan et al.'s pairwise update:
/// μ = μa + δ·nb/n, S = Sa + Sb + δδᵀ·na·nb/n with δ = μb − μa), so statistics of A merged with those of B
/// equal the statistics of A ∪ B up to float64 rounding. Owns its tensors (outside any dispose scope).
/// </summary>
internal sealed class PositionGaussians : IDisposable
{
    private PositionGaussians(long count, Tensor mean, Tensor scatter) => (Count, Mean, Scatter) = (count, mean, scatter);

    public long Count { get; private set; }
    public Tensor Mean { get; }
    public Tensor Scatter { get; }

    /// <summary>Empty statistics (no samples yet) of <paramref name="positions"/> positions of <paramref name="dimensions"/> values.</summary>
    public static PositionGaussians Empty(long positions, long dimensions) =>
        new(0, zeros(positions, dimensions, dtype: ScalarType.Float64).DetachFromDisposeScope(),
            zeros(positions, dimensions, dimensions, dtype: ScalarType.Float64).DetachFromDisposeScope());

    /// <summary>
    /// Adds the samples of embeddings [N, P, D] in place, position chunk by chunk (the batch's mean and scatter merged
    /// by the pairwise update), so a batch costs a few MiB of temporaries beside these statistics, not another [P, D, D].
    /// </summary>
    public void AddSamples(Tensor embeddings)
    {
        if (embeddings.dim() != 3 || embeddings.shape[1] != Mean.shape[0] || embeddings.shape[2] != Mean.shape[1])
            throw new ArgumentException($"Embeddings must be [N, {Mean.shape[0]}, {Mean.shape[1]}], got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        using var noGrad = no_grad();
        long added = embeddings.shape[0], n = Count + added;
        if (added == 0) return;
        double weight = (double)Count * added / n;
        foreach (var (start, length) in Chunks(Mean.shape[0], Mean.shape[1]))
        {
            using var chunkScope = NewDisposeScope();
            var samples = embeddings.narrow(1, start, length).to_type(ScalarType.Float64); // [N, chunk, D]
            var batchMean = samples.mean([0]);
            var mean = Mean.narrow(0, start, length);
            var delta = batchMean - mean;
            // The batch's scatter and the merge term δδᵀ·w in one product, XᵀX with X = [centred samples; √w·δ]
            // [chunk, N + 1, D]: one [chunk, D, D] temporary and one pass over the float64 scatter, not two of each.
            var rows = cat([samples - batchMean, (delta * Math.Sqrt(weight)).unsqueeze(0)], 0).permute(1, 0, 2);
            Scatter.narrow(0, start, length).add_(rows.transpose(1, 2).bmm(rows));
            mean.add_(delta, alpha: (double)added / n);
        }
        Count = n;
    }

    /// <summary>Restores statistics saved from <see cref="Count"/>, <see cref="Mean"/> and <see cref="Scatter"/> (takes the tensors).</summary>
    public static PositionGaussians FromSaved(long count, Tensor mean, Tensor scatter) => new(count, mean, scatter);

    /// <summary>
    /// Adds another sample set's statistics into these, in place and position chunk by chunk, so merging never
    /// holds a third float64 [P, D, D] tensor (after an error mid-way these statistics are no longer valid).
    /// </summary>
    public void Add(PositionGaussians other)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = Count + other.Count;
        var delta = other.Mean - Mean; // [P, D]
        double weight = (double)Count * other.Count / n;
        foreach (var (start, length) in Chunks(Mean.shape[0], Mean.shape[1]))
        {
            using var chunkScope = NewDisposeScope();
            var d = delta.narrow(0, start, length);
            Scatter.narrow(0, start, length).add_(other.Scatter.narrow(0, start, length)).add_(d.unsqueeze(2).bmm(d.unsqueeze(1)), alpha: weight);
        }
        Mean.add_(delta * ((double)other.Count / n));
        Count = n;
    }

    /// <summary>
    /// PaDiM's model: float32 mean [P, D] and the inverse of the unbiased covariance scatter / (N − 1) plus
    /// <paramref name="regularisation"/>·I, [P, D, D], inverted in float64 as <see cref="Mahalanobis.Fit"/>.
    /// </summary>
    public (Tensor Mean, Tensor InverseCovariance) ToModel(double regularisation)
    {
        if (Count < 2) throw new InvalidOperationException($"A covariance needs at least 2 samples; have {Count}.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long p = Mean.shape[0], d = Mean.shape[1];
        var inverse = empty(p, d, d, dtype: ScalarType.Float32);
        var identity = eye(d, dtype: ScalarType.Float64) * regularisation;
        foreach (var (start, length) in Chunks(p, d))
        {
            using var chunkScope = NewDisposeScope();
            inverse.narrow(0, start, length).copy_(linalg.inv(Scatter.narrow(0, start, length) / (Count - 1) + identity));
        }
        return (Mean.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), inverse.MoveToOuterDisposeScope());
    }

    /// <summary>Position chunks small enough that a float64 [chunk, D, D] stays around 32 MiB.</summary>
    private static IEnumerable<(long Start, long Length)> Chunks(long positions, long d)
    {
        long chunk = Math.Max(1, (1L << 22) / (d * d));
        for (long start = 0; start < positions; start += chunk) yield return (start, Math.Min(chunk, positions - start));
    }

    public void Dispose()
    {
        Mean.Dispose();
        Scatter.Dispose();
    }
}
