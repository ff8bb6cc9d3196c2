using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// The approximate greedy coreset's random projection (<see cref="KCenterGreedy.ApproximateCoreset(Tensor, double, long, int, int, CancellationToken)"/>),
/// applied to rows as they arrive and keeping only the projected rows, so a coreset over all patch features of a
/// training set needs memory for the projection (128 values a row), not for the features. The map is a bias-free
/// linear one initialised like torch.nn.Linear, U(±1/√D), drawn first from a generator seeded by the seed; the coreset's
/// start points are drawn from the same generator afterwards (<see cref="StartPoints"/>).
/// </summary>
/// <remarks>
/// Rows are projected in blocks of <see cref="BlockRows"/> at fixed offsets (rows 0–4095, 4096–8191, …), whatever
/// batches they arrive in: a matrix product's rounding may depend on how many rows it multiplies at once, and fixed
/// blocks make rows added in any batching give the same bits as all rows added at once.
/// </remarks>
public sealed class CoresetProjection : IDisposable
{
    /// <summary>Rows multiplied together (16 MiB of 1024-value features).</summary>
    public const int BlockRows = 4096;

    private readonly Generator _generator;
    private readonly Tensor? _matrix;       // [D, d]; null when the rows already have d columns (nothing is drawn then)
    private readonly PaddedRows _projected;
    private Tensor? _pending;               // rows of the block not yet complete
    private int _received, _written;

    /// <summary>A projection of <paramref name="rows"/> rows of <paramref name="inputDimension"/> values to <paramref name="dimension"/>.</summary>
    public CoresetProjection(long inputDimension, int dimension, long seed, int rows)
    {
        if (inputDimension < 1 || dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), $"Cannot project {inputDimension} values to {dimension}.");
        _generator = new Generator((ulong)seed);
        if (inputDimension != dimension)
        {
            double bound = 1.0 / Math.Sqrt(inputDimension);
            using var scope = NewDisposeScope();
            _matrix = (rand(new long[] { inputDimension, dimension }, generator: _generator) * (2 * bound) - bound).DetachFromDisposeScope();
        }
        InputDimension = inputDimension;
        _projected = new PaddedRows(rows, dimension);
    }

    public long InputDimension { get; }

    /// <summary>The projected rows, once all rows have been added.</summary>
    public PaddedRows Projected => _received == _projected.Count
        ? _projected
        : throw new InvalidOperationException($"Only {_received} of the {_projected.Count} rows have been added.");

    /// <summary>Projects the next rows [n, D] (in order after those added before).</summary>
    public void Add(Tensor rows)
    {
        if (rows.dim() != 2 || rows.shape[1] != InputDimension)
            throw new ArgumentException($"Rows must be [n, {InputDimension}], got [{string.Join(", ", rows.shape)}].", nameof(rows));
        if (_received + rows.shape[0] > _projected.Count)
            throw new InvalidOperationException($"{_received + rows.shape[0]} rows added to a projection of {_projected.Count}.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var waiting = _pending is null ? rows : cat([_pending, rows], 0);
        _received += (int)rows.shape[0];
        long ready = _received == _projected.Count ? waiting.shape[0] : waiting.shape[0] / BlockRows * BlockRows;
        for (long start = 0; start < ready; start += BlockRows)
        {
            var block = waiting.narrow(0, start, Math.Min(BlockRows, ready - start));
            _projected.Fill(_written, _matrix is null ? block : block.matmul(_matrix));
            _written += (int)block.shape[0];
        }
        _pending?.Dispose();
        _pending = ready < waiting.shape[0] ? waiting.narrow(0, ready, waiting.shape[0] - ready).clone().DetachFromDisposeScope() : null;
    }

    /// <summary>
    /// The coreset's start points among <paramref name="rows"/> rows: the first min(<paramref name="count"/>, rows) of a
    /// random permutation, drawn after the projection from the same generator (each call draws anew).
    /// </summary>
    public int[] StartPoints(int rows, int count)
    {
        using var scope = NewDisposeScope();
        return randperm(rows, generator: _generator).narrow(0, 0, Math.Min(count, rows)).data<long>().Select(v => (int)v).ToArray();
    }

    public void Dispose()
    {
        _matrix?.Dispose();
        _pending?.Dispose();
        _generator.Dispose();
    }
}
