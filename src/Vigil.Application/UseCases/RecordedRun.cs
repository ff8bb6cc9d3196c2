using Vigil.Records;
using Vigil.Results;

namespace Vigil.UseCases;

/// <summary>What started a run, as its run record keeps it: the command line and every option after defaults (JSON).</summary>
public sealed record RunDescription(string CommandLine, string Configuration)
{
    /// <summary>For library callers that have no command line: the use case's name and its request as JSON.</summary>
    public static RunDescription Library(string useCase, string configurationJson) => new($"library: {useCase}", configurationJson);
}

/// <summary>
/// A use case's run in the results store: begun with its configuration, build and environment, cells saved one
/// transaction each as they finish, and ended as finished, interrupted (cancelled) or failed.
/// </summary>
internal sealed class RecordedRun : IDisposable
{
    private readonly long _runId;
    private string _status = RunStatus.Failed;

    private RecordedRun(IResultsStore store, long runId) => (Store, _runId) = (store, runId);

    /// <summary>Opens the store <paramref name="spec"/> names (unreachable or damaged stores fail here, before any work) and begins a run.</summary>
    public static RecordedRun Begin(string? spec, string outputDirectory, RunDescription run, string backbone, string? weightsSha256)
    {
        var store = ResultsStore.Open(spec, outputDirectory);
        try
        {
            return new RecordedRun(store, store.BeginRun(RunRecord.StartingNow(run.CommandLine, run.Configuration, backbone, weightsSha256)));
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public IResultsStore Store { get; }

    public void Save(CellResult result, IReadOnlyDictionary<string, byte[]> artifactFiles) => Store.SaveCell(_runId, result, artifactFiles);

    public void Save(ContinualResult result) => Store.SaveContinual(_runId, result);

    public void Finished() => _status = RunStatus.Finished;

    /// <summary>Marks the run as stopped by the user when <paramref name="error"/> is a cancellation.</summary>
    public void Ended(Exception error)
    {
        if (error is OperationCanceledException) _status = RunStatus.Interrupted;
    }

    public void Dispose()
    {
        try { Store.FinishRun(_runId, _status); }
        finally { Store.Dispose(); }
    }
}
