using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Hangfire.States;
using Vigil.Data.Synthetic;
using Vigil.Distributed;
using Vigil.Imaging;
using Vigil.Records;
using Vigil.Results;
using Vigil.Tests.Cli;
using Vigil.Tests.Data;
using Vigil.Tests.Results;
using Vigil.UseCases;

namespace Vigil.Tests.Distributed;

/// <summary>
/// The grid on the Hangfire queue with real worker processes and a throw-away PostgreSQL server: a worker killed
/// mid-cell, a database that goes away and comes back, a cell with bad input; the stored grid must equal a
/// single-machine `vigil bench` of the same grid.
/// </summary>
public sealed class QueueTests : IDisposable
{
    private const int WorkerWaitSeconds = 300; // a bound for a loaded machine, not a timing
    private readonly PostgresServer _server = new();
    private readonly TempTree _temp = new();
    private readonly List<Worker> _workers = [];
    private readonly string[] _categories = [SyntheticDataset.Categories[0], SyntheticDataset.Categories[1]];
    private readonly string _data;

    public QueueTests()
    {
        SharedData.RequireDirectory("weights");
        _data = SyntheticDataset.Generate(_temp.Path("synthetic"), new SyntheticOptions
        {
            ImageSize = 64, TrainGoodCount = 6, TestGoodCount = 3, TestDefectCount = 1, Seed = 5, Categories = _categories,
        });
    }

    public void Dispose()
    {
        foreach (var worker in _workers) worker.Dispose();
        _server.Dispose();
        _temp.Dispose();
    }

    /// <summary>2 models × 2 categories × 2 seeds, small inputs.</summary>
    private string[] Grid(string output, params string[] more) =>
        ["bench", "-d", $"synthetic:{_data}", "-c", string.Join(",", _categories), "-m", "padim,patchcore", "--seeds", "0,1", "--resize", "64", "-o", output, .. more];

    [Fact]
    public void AGridOnThreeWorkersWithOneKilledMidCellIsStoredOnceAndEqualsTheSingleMachineRun()
    {
        var queue = _server.NewDatabase();
        var enqueued = VigilProcess.Run(_temp.Folder("enqueue"), Grid(_temp.Folder("grid"), "--queue", queue));
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        Assert.Contains("8 cells", enqueued.Stdout);
        Assert.Contains("8 enqueued, 0 already queued or running, 0 already stored", enqueued.Stdout);
        var again = VigilProcess.Run(_temp.Folder("enqueue"), Grid(_temp.Folder("grid"), "--queue", queue));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("0 enqueued, 8 already queued or running, 0 already stored", again.Stdout); // idempotent

        var workers = new[] { "w0", "w1", "w2" }.Select(name => StartWorker(queue, name)).ToList();
        // Midway: once a cell is stored, SIGKILL the first worker seen in the middle of a cell.
        var (doomed, killedCell) = KillMidCell(workers);

        using var stores = QueuedAndSingle(queue, output => Grid(output), "8 of 8 cells stored, 0 failed, 0 waiting or running");
        var (distributed, local) = (stores.Queued, stores.Single);
        var expected = local.LatestCells().Select(c => c.Result).ToList();
        Assert.Equal(8, expected.Count);
        var runs = distributed.Runs();
        var stored = runs.SelectMany(r => distributed.Cells(r.Id).Select(c => (Run: r, Cell: c))).ToList();
        // Complete and unique: every cell of the grid, each saved once across all workers.
        Assert.Equal(expected.Select(c => c.Spec.Hash).Order(), stored.Select(s => s.Cell.Spec.Hash).Order());
        foreach (var cell in expected)
        {
            var twin = stored.Single(s => s.Cell.Spec.Hash == cell.Spec.Hash).Cell;
            Assert.Equal(Json(cell.Metrics), Json(twin.Metrics));
            Assert.Equal(cell.Images.Select(i => (i.Path, i.Score)), twin.Images.Select(i => (i.Path, i.Score)));
        }
        // The killed worker's cell was run again by another worker; the killed worker's run stays 'running' without it.
        var doomedRun = runs.Single(r => r.CommandLine.Contains($"{doomed}-out"));
        Assert.Equal(RunStatus.Running, doomedRun.Status);
        var retried = stored.Single(s => killedCell.StartsWith(s.Cell.Spec.ToString() + " ("));
        Assert.NotEqual(doomedRun.Id, retried.Run.Id);
        Assert.Contains(_workers, w => w.Lines.Any(line => line.EndsWith($"{killedCell}: stored")));
        // Never two at once: besides the killed attempt, each cell ran once (a second hand-out would wait, then find it stored).
        Assert.Equal(8 + 1, _workers.Sum(w => w.Lines.Count(line => line.EndsWith(": running"))));

        // A cell with bad input fails once, with its error, and is not retried.
        var cellQueue = CellQueue.Open(queue);
        var bad = new CellOrder(expected[0].Spec with { Category = "no_such_category" }, "pretrained", null, InputProtocol.Backbone, false);
        Assert.Equal(1, cellQueue.Enqueue([(bad, CellOrder.MemoryQueue)], distributed).Enqueued);
        var status = WaitForStatus(cellQueue, bad.Hash, distributed);
        Assert.Equal(CellStatus.Failed, status.Status);
        Assert.Contains("Unknown category 'no_such_category'", status.Error);
        Thread.Sleep(TimeSpan.FromSeconds(3)); // a retry would have been scheduled at once
        var monitor = cellQueue.Storage.GetMonitoringApi();
        var (jobId, failedJob) = Assert.Single(monitor.FailedJobs(0, 10));
        Assert.Contains("Unknown category 'no_such_category'", failedJob.ExceptionMessage);
        var history = monitor.JobDetails(jobId).History; // newest first
        Assert.Equal(FailedState.StateName, history[0].StateName);
        Assert.Equal(1, history.Count(h => h.StateName == ProcessingState.StateName));
        Assert.Equal(1, _workers.Sum(w => w.Lines.Count(line => line.Contains("no_such_category") && line.Contains(": failed: "))));
        Assert.False(distributed.TryFindCell(bad.Hash, out _));
    }

    [Fact]
    public void AWorkerThatLosesTheDatabaseReconnectsAndGoesOn()
    {
        var queue = _server.NewDatabase();
        var worker = StartWorker(queue, "survivor");
        worker.WaitFor(line => line.Contains(" slot(s) on queue(s) "));
        _server.Stop();
        Thread.Sleep(TimeSpan.FromSeconds(5));
        _server.Start();

        string[] oneCell = ["bench", "-d", $"synthetic:{_data}", "-c", _categories[0], "-m", "padim", "--resize", "64", "-o", _temp.Folder("grid"), "--queue", queue, "--wait"];
        var followed = VigilProcess.Run(_temp.Folder("enqueue"), oneCell);
        Assert.True(followed.ExitCode == 0, followed.ToString() + Logs());
        Assert.Contains("1 of 1 cells stored", followed.Stdout);
        Assert.Contains(worker.Lines, line => line.EndsWith(": stored"));
    }

    [Fact]
    public void ATiledCellRunsOnTheQueueAsOnOneMachine()
    {
        var queue = _server.NewDatabase();
        var worker = StartWorker(queue, "tiler");
        string[] tiledCell(string output) =>
            ["bench", "-d", $"synthetic:{_data}", "-c", _categories[0], "-m", "padim:dims=20", "--tile", "32", "--tile-stride", "24", "-o", output];
        using var stores = QueuedAndSingle(queue, tiledCell, "1 of 1 cells stored");
        var (distributed, local) = (stores.Queued, stores.Single);
        var expected = Assert.Single(local.LatestCells()).Result;
        Assert.Equal(new Tiling(32, 24), expected.Spec.Tiling);
        var run = Assert.Single(distributed.Runs());
        var stored = Assert.Single(distributed.Cells(run.Id));
        Assert.Equal(expected.Spec.Hash, stored.Spec.Hash); // the worker ran the tiled cell, not the whole-image one
        Assert.Equal(Json(expected.Metrics), Json(stored.Metrics));
        Assert.Equal(expected.Images.Select(i => (i.Path, i.Score)), stored.Images.Select(i => (i.Path, i.Score)));
    }

    /// <summary>Follows <paramref name="grid"/> on the queue to its end, runs it on one machine too, and opens both stores.</summary>
    private Stores QueuedAndSingle(string queue, Func<string, string[]> grid, string storedLine)
    {
        var followed = VigilProcess.Run(_temp.Folder("enqueue"), [.. grid(_temp.Folder("grid")), "--queue", queue, "--wait"]);
        Assert.True(followed.ExitCode == 0, followed.ToString() + Logs());
        Assert.Contains(storedLine, followed.Stdout);
        var single = VigilProcess.Run(_temp.Folder("single"), grid(_temp.Folder("single-out")));
        Assert.True(single.ExitCode == 0, single.ToString());
        return new Stores(ResultsStore.Open(queue, _temp.Root), ResultsStore.Open(null, _temp.Path("single-out")));
    }

    private sealed record Stores(IResultsStore Queued, IResultsStore Single) : IDisposable
    {
        public void Dispose()
        {
            Queued.Dispose();
            Single.Dispose();
        }
    }

    /// <returns>The killed worker's name and the cell it was running ("key (hash)").</returns>
    private (string Name, string Cell) KillMidCell(IReadOnlyList<Worker> workers)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < WorkerWaitSeconds)
        {
            if (workers.Any(w => w.Lines.Any(line => line.EndsWith(": stored")))
                && workers.FirstOrDefault(w => w.LastCellEvent()?.EndsWith(": running") == true) is { } victim)
            {
                victim.Kill();
                return (victim.Name, victim.LastCellEvent()![9..^": running".Length]); // after "HH:mm:ss "
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException("No worker was seen in the middle of a cell after one was stored." + Logs());
    }

    private static (CellStatus Status, string? Error) WaitForStatus(CellQueue queue, string hash, IResultsStore store)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = queue.Status(hash, store);
            if (status.Status != CellStatus.Pending || clock.Elapsed.TotalSeconds > WorkerWaitSeconds) return status;
            Thread.Sleep(250);
        }
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, RecordJson.Compact);

    private Worker StartWorker(string queue, string name)
    {
        var worker = new Worker(name, VigilProcess.Start(_temp.Folder(name), new Dictionary<string, string>(),
            "worker", "--queue", queue, "--slots", "1", "--invisibility-timeout", "10", "-o", _temp.Folder(name + "-out")));
        _workers.Add(worker);
        return worker;
    }

    private string Logs() => string.Concat(_workers.Select((w, i) => $"\n--- worker {i}\n{string.Join("\n", w.Lines)}\n{w.Errors}"));

    /// <summary>A worker process whose output lines are collected as they come.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly Task<string> _errors;

        public Worker(string name, Process process)
        {
            Name = name;
            _process = process;
            _errors = process.StandardError.ReadToEndAsync();
            Task.Run(() =>
            {
                while (process.StandardOutput.ReadLine() is { } line) _lines.Enqueue(line);
            });
        }

        public string Name { get; }

        public IReadOnlyList<string> Lines => [.. _lines];

        /// <summary>The worker's last line about a cell (running, stored, failed); Hangfire's own warnings may follow it.</summary>
        public string? LastCellEvent() => Lines.LastOrDefault(line => line.EndsWith(": running") || line.Contains(": stored") || line.Contains(": failed: "));

        public string Errors => _errors.IsCompleted ? _errors.Result : "";

        public void WaitFor(Func<string, bool> line)
        {
            var clock = Stopwatch.StartNew();
            while (!_lines.Any(line))
            {
                if (_process.HasExited || clock.Elapsed.TotalSeconds > WorkerWaitSeconds)
                    throw new TimeoutException($"The worker did not log the line awaited:\n{string.Join("\n", _lines)}\n{Errors}");
                Thread.Sleep(50);
            }
        }

        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }
}
