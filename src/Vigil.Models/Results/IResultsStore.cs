using Vigil.Engine;

namespace Vigil.Results;

/// <summary>
/// Where benchmark results live: runs (configuration, build, weights, machine) and their finished cells (metrics,
/// timings, per-image scores). Each cell is saved in one transaction, so a killed process or a full disk never leaves
/// part of a cell behind, and a finished cell with the same key and configuration is found again instead of being
/// recomputed. Open one with <see cref="ResultsStore.Open"/>.
/// </summary>
public interface IResultsStore : IDisposable
{
    /// <summary>Where the store is, for messages: the SQLite file, or the PostgreSQL address without its password.</summary>
    string Location { get; }

    /// <summary>Records a run as <see cref="RunStatus.Running"/> and returns its id.</summary>
    long BeginRun(RunRecord run);

    /// <summary>Saves a finished cell of run <paramref name="runId"/>: all of it or, on any failure, nothing.</summary>
    /// <param name="configurationHash">Identifies everything besides the key that determines the result; <see cref="TryFindCell"/> matches on it.</param>
    void SaveCell(long runId, CellResult result, string configurationHash);

    /// <summary>The latest saved cell with this key and configuration hash, from any run (killed runs included).</summary>
    bool TryFindCell(CellKey key, string configurationHash, out CellResult? result);

    /// <summary>Marks a run as ended with a <see cref="RunStatus"/> value.</summary>
    void FinishRun(long runId, string status);

    /// <summary>All runs, oldest first.</summary>
    IReadOnlyList<RunRecord> Runs();

    /// <summary>The cells a run saved, in the order it saved them.</summary>
    IReadOnlyList<CellResult> Cells(long runId);

    /// <summary>For each (cell key, configuration hash), the cell saved last, across all runs; in saving order.</summary>
    IReadOnlyList<StoredCell> LatestCells();
}

/// <summary>A saved cell with the run that saved it.</summary>
public sealed record StoredCell(long RunId, string ConfigurationHash, DateTimeOffset Saved, CellResult Result);
