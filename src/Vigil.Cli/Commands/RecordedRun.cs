using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Vigil.Engine;
using Vigil.Results;

namespace Vigil.Cli.Commands;

/// <summary>
/// A command's run in the results store: begun with its resolved configuration, build and environment, cells saved
/// one transaction each as they finish, and marked finished — or failed, when the command ends by an error.
/// </summary>
internal sealed class RecordedRun : IDisposable
{
    private readonly IResultsStore _store;
    private readonly long _runId;
    private bool _finished;

    public static Option<string?> Option() => new("--results")
    {
        Description = $"Results store: {ResultsStore.AcceptedForms}.",
    };

    private RecordedRun(IResultsStore store, long runId) => (_store, _runId) = (store, runId);

    public static RecordedRun Begin(ParseResult parse, Option<string?> results, string outputDirectory, string backbone, string? weightsSha256)
    {
        var store = ResultsStore.Open(parse.GetValue(results), outputDirectory);
        var commandLine = "vigil " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        return new RecordedRun(store, store.BeginRun(RunRecord.StartingNow(commandLine, ConfigFile.Resolved(parse), backbone, weightsSha256)));
    }

    public string Location => _store.Location;

    /// <summary>A cell finished earlier (in any run) with the same key and configuration.</summary>
    public bool TryFind(CellKey key, string configuration, out CellResult? result) => _store.TryFindCell(key, Hash(configuration), out result);

    public void Save(CellResult result, string configuration) => _store.SaveCell(_runId, result, Hash(configuration));

    public void Finish()
    {
        _store.FinishRun(_runId, RunStatus.Finished);
        _finished = true;
    }

    public void Dispose()
    {
        if (!_finished) _store.FinishRun(_runId, RunStatus.Failed);
        _store.Dispose();
    }

    private static string Hash(string configuration) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(configuration)));
}
