using Vigil.Records;

namespace Vigil.Results;

/// <summary>
/// Where benchmark results live: runs (configuration, build, weights, machine), their finished cells (metrics,
/// timings, per-image scores, artifact PNGs) and continual runs. Each cell is saved in one transaction, so a killed
/// process or a full disk never leaves part of a cell behind, and a finished cell with the same specification
/// (<see cref="CellSpec.Hash"/>) is found again instead of being recomputed. Open one with <see cref="ResultsStore.Open"/>.
/// </summary>
public interface IResultsStore : IDisposable
{
    /// <summary>Where the store is, for messages: the SQLite file, or the PostgreSQL address without its password.</summary>
    string Location { get; }

    /// <summary>Records a run as <see cref="RunStatus.Running"/> and returns its id.</summary>
    long BeginRun(RunRecord run);

    /// <summary>
    /// Saves a finished cell of run <paramref name="runId"/> with its artifact files (name → PNG bytes, as
    /// <see cref="CellResult.Artifacts"/> names them): all of it or, on any failure, nothing.
    /// </summary>
    void SaveCell(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null);

    /// <summary>
    /// Saves a cell like <see cref="SaveCell"/> unless a cell with its specification hash is stored already, checked
    /// and written in one transaction: of several processes that computed the same cell (a worker killed after
    /// computing it, a job the queue handed out twice), exactly one stores it. Returns whether this call saved it.
    /// </summary>
    bool SaveCellOnce(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null);

    /// <summary>The latest saved cell with this specification hash, from any run (killed runs included).</summary>
    bool TryFindCell(string specHash, out CellResult? result);

    /// <summary>Saves a finished continual run of run <paramref name="runId"/>.</summary>
    void SaveContinual(long runId, ContinualResult result);

    /// <summary>The latest saved continual run with this specification hash.</summary>
    bool TryFindContinual(string specHash, out ContinualResult? result);

    /// <summary>Marks a run as ended with a <see cref="RunStatus"/> value.</summary>
    void FinishRun(long runId, string status);

    /// <summary>All runs, oldest first.</summary>
    IReadOnlyList<RunRecord> Runs();

    /// <summary>The cells a run saved, in the order it saved them.</summary>
    IReadOnlyList<CellResult> Cells(long runId);

    /// <summary>For each specification hash, the cell saved last, across all runs; in saving order.</summary>
    IReadOnlyList<StoredCell> LatestCells();

    /// <summary>For each specification hash, the continual run saved last; in saving order.</summary>
    IReadOnlyList<ContinualResult> LatestContinual();

    /// <summary>An artifact file of a stored cell, or null when the cell has none of that name.</summary>
    byte[]? ReadArtifact(long cellId, string name);
}

/// <summary>A saved cell with the run that saved it.</summary>
/// <param name="CellId">The cell's row, for <see cref="IResultsStore.ReadArtifact"/>.</param>
public sealed record StoredCell(long CellId, long RunId, DateTimeOffset Saved, CellResult Result);
