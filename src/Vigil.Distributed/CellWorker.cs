using System.Data.Common;
using System.Text.Json;
using Hangfire;
using Vigil.Records;
using Vigil.Results;
using Vigil.UseCases;

namespace Vigil.Distributed;

/// <summary>What a worker process is: where it takes cells from and where it stores them.</summary>
/// <param name="OutputDirectory">Where gradient trainings keep their checkpoints (per cell hash).</param>
/// <param name="ResultsStore">The results store spec; every worker and the enqueuer must name the same store.</param>
/// <param name="Slots">Cells run at once.</param>
/// <param name="Queues">The resource classes this worker takes (<see cref="CellOrder.Queues"/>).</param>
public sealed record WorkerRequest(string OutputDirectory, string ResultsStore, int Slots, IReadOnlyList<string> Queues, RunDescription Run);

/// <summary>
/// A worker: a Hangfire server that takes cells from the queue, runs each with the same code as a single-machine run
/// (<see cref="BenchmarkGrid"/>, <see cref="Benchmark.CellRunner"/>) and stores it exactly once
/// (<see cref="IResultsStore.SaveCellOnce"/>) in a run of its own (this machine's environment, for its timings).
/// </summary>
public sealed class CellWorker
{
    private readonly CellQueue _queue;
    private readonly WorkerRequest _request;
    private readonly IWorkDisplay _log;
    private long _runId;

    private CellWorker(CellQueue queue, WorkerRequest request, IWorkDisplay log) => (_queue, _request, _log) = (queue, request, log);

    /// <summary>Runs cells until <paramref name="cancel"/> (SIGTERM, Ctrl+C): running cells go back to the queue for the next worker.</summary>
    public static void Serve(CellQueue queue, WorkerRequest request, IWorkDisplay log, CancellationToken cancel)
    {
        if (request.Slots < 1) throw new VigilInputException($"--slots {request.Slots}: a worker needs at least one slot.");
        var unknown = request.Queues.Except(CellOrder.Queues).ToList();
        if (unknown.Count > 0 || request.Queues.Count == 0)
            throw new VigilInputException($"Unknown queue{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown)}; give one or more of {string.Join(", ", CellOrder.Queues)}.");
        OutputChecks.RequireWritableDirectory(request.OutputDirectory, "training checkpoints");
        var worker = new CellWorker(queue, request, log);
        using (var store = ResultsStore.Open(request.ResultsStore, request.OutputDirectory))
            worker._runId = store.BeginRun(RunRecord.StartingNow(request.Run.CommandLine, request.Run.Configuration, "per cell", null));
        string status = RunStatus.Finished;
        try
        {
            using var server = new BackgroundJobServer(new BackgroundJobServerOptions
            {
                WorkerCount = request.Slots,
                Queues = [.. request.Queues],
                ServerName = $"{Environment.MachineName}:{Environment.ProcessId}",
                Activator = new Activator(worker),
                ShutdownTimeout = TimeSpan.FromSeconds(30),
            }, queue.Storage);
            log.Note($"worker {Environment.MachineName}:{Environment.ProcessId}: {request.Slots} slot(s) on queue(s) {string.Join(", ", request.Queues)} of {queue.Location}; results to {worker.StoreLocation()}");
            cancel.WaitHandle.WaitOne();
            status = RunStatus.Interrupted; // stopped by the user; Dispose hands running cells back to the queue
        }
        finally
        {
            using var store = ResultsStore.Open(request.ResultsStore, request.OutputDirectory);
            store.FinishRun(worker._runId, status);
        }
    }

    private string StoreLocation() => WithStore(store => store.Location);

    /// <summary>Runs one queued cell (<see cref="CellJob"/>); a cell stored already, by anyone, is not run again.</summary>
    internal void Run(CellOrder order, CancellationToken cancel)
    {
        var label = $"{order.Spec} ({order.Hash[..12]})";
        if (WithStore(store => store.TryFindCell(order.Hash, out _))) { _log.Note($"{label}: stored already"); return; }
        // A cell the queue handed out twice runs once: the second worker waits here, then finds it stored.
        using var running = AdvisoryLock.Acquire(_queue.ConnectionString, "vigil-cell:" + order.Hash, cancel);
        if (WithStore(store => store.TryFindCell(order.Hash, out _))) { _log.Note($"{label}: stored already"); return; }

        _log.Note($"{label}: running");
        try
        {
            var request = order.Request(_request.OutputDirectory, _request.ResultsStore);
            var setting = request.Settings[0];
            var category = BenchmarkGrid.Categories(request, _log).Single();
            var cell = BenchmarkGrid.Cells(request, category, setting).Single();
            if (cell.Spec.Hash != order.Hash) throw new VigilInputException($"Cell {order.Spec} cannot run on this worker: {Differences(order.Spec, cell.Spec)}.");
            var outcome = BenchmarkGrid.Run(cell, setting, setting.Apply(category.Clean, category.Seed), _request.OutputDirectory, null, cancel);
            bool saved = WithStore(store => store.SaveCellOnce(_runId, outcome.Result, outcome.ArtifactFiles));
            _log.Note($"{label}: {(saved ? "stored" : "stored already by another worker; this result dropped")}");
        }
        catch (VigilInputException e)
        {
            _log.Note($"{label}: failed: {e.Message}");
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.Note($"{label}: error, to be retried: {e.Message}");
            throw;
        }
    }

    /// <summary>
    /// Opens the results store for one use: a worker outlives database restarts, so it holds no connection between
    /// cells. An unreachable store is <see cref="StoreUnavailableException"/> (retried), not bad input.
    /// </summary>
    private T WithStore<T>(Func<IResultsStore, T> use)
    {
        try
        {
            using var store = ResultsStore.Open(_request.ResultsStore, _request.OutputDirectory);
            return use(store);
        }
        catch (Exception e) when (e is DbException || e.InnerException is DbException)
        {
            throw new StoreUnavailableException($"The results store cannot be reached: {e.Message}", e);
        }
    }

    /// <summary>The fields in which the queued specification and the one this worker builds differ.</summary>
    private static string Differences(CellSpec queued, CellSpec here)
    {
        var a = JsonSerializer.SerializeToElement(queued, RecordJson.Compact);
        var b = JsonSerializer.SerializeToElement(here, RecordJson.Compact);
        var differing = a.EnumerateObject().Where(p => !b.TryGetProperty(p.Name, out var other) || other.GetRawText() != p.Value.GetRawText())
            .Select(p => $"{p.Name} is {p.Value.GetRawText()} in the queue but {(b.TryGetProperty(p.Name, out var o) ? o.GetRawText() : "missing")} here");
        return string.Join("; ", differing) + ". Run the same Vigil version with the same data and weights on every worker";
    }

    private sealed class Activator(CellWorker worker) : JobActivator
    {
        public override object ActivateJob(Type jobType) => jobType == typeof(CellJob) ? new CellJob(worker) : base.ActivateJob(jobType);
    }
}
