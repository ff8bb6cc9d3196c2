using Vigil.Records;
using Vigil.Results;

namespace Vigil.Server.Dashboard;

/// <summary>The dashboard's selection of cells: empty fields select everything.</summary>
public sealed record CellFilter(string? Model, string? Dataset, string? Setting)
{
    public bool IsEmpty => Model is null && Dataset is null && Setting is null;

    public bool Matches(CellKey key) =>
        (Model is null || key.Model == Model) && (Dataset is null || key.Dataset == Dataset) && (Setting is null || key.Setting == Setting);

    /// <summary>A continual run spans datasets and settings, so it is shown only when those are not filtered.</summary>
    public bool Matches(ContinualResult run) => Dataset is null && Setting is null && (Model is null || run.Model == Model);

    /// <summary>"model=…, dataset=…" for titles; "all cells" when empty.</summary>
    public override string ToString() => IsEmpty ? "all cells"
        : string.Join(", ", new[] { ("model", Model), ("dataset", Dataset), ("setting", Setting) }.Where(f => f.Item2 is not null).Select(f => $"{f.Item1} {f.Item2}"));
}

/// <summary>
/// A results store seen through a <see cref="CellFilter"/>, so the HTML report (which reads a whole store) draws the
/// tables and plots of the selected cells only. Read-only: the dashboard never writes.
/// </summary>
internal sealed class FilteredResults(IResultsStore store, CellFilter filter) : IResultsStore
{
    public string Location => store.Location;
    public IReadOnlyList<StoredCell> LatestCells() => [.. store.LatestCells().Where(c => filter.Matches(c.Result.Key))];
    public IReadOnlyList<ContinualResult> LatestContinual() => [.. store.LatestContinual().Where(filter.Matches)];
    public byte[]? ReadArtifact(long cellId, string name) => store.ReadArtifact(cellId, name);
    public IReadOnlyList<RunRecord> Runs() => store.Runs();
    public IReadOnlyList<CellResult> Cells(long runId) => [.. store.Cells(runId).Where(c => filter.Matches(c.Key))];
    public bool TryFindCell(string specHash, out CellResult? result) => store.TryFindCell(specHash, out result);
    public bool TryFindContinual(string specHash, out ContinualResult? result) => store.TryFindContinual(specHash, out result);

    public long BeginRun(RunRecord run) => throw ReadOnly();
    public void SaveCell(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null) => throw ReadOnly();
    public bool SaveCellOnce(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null) => throw ReadOnly();
    public void SaveContinual(long runId, ContinualResult result) => throw ReadOnly();
    public void FinishRun(long runId, string status) => throw ReadOnly();

    public void Dispose() { } // the underlying store belongs to the caller

    private static InvalidOperationException ReadOnly() => new("The dashboard's view of a results store is read-only.");
}
