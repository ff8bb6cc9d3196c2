using System.CommandLine;
using Spectre.Console;
using Vigil.Distributed;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>
/// The benchmark queue on the command line: `vigil bench --queue` (enqueue, or follow with --wait) and `vigil worker`;
/// thin over <see cref="QueueBenchmark"/> and <see cref="CellWorker"/> (docs/distributed.md).
/// </summary>
internal static class QueueCommands
{
    public static Option<string?> Queue() => new("--queue")
    {
        Description = "Run the grid on workers: the PostgreSQL database of the job queue, postgres://USER:PASSWORD@HOST:PORT/DATABASE " +
                      "(results go to the same database unless --results names another). See docs/distributed.md.",
    };

    public static Option<bool> Wait() => new("--wait")
    {
        Description = "With --queue: follow the grid until every cell is stored or failed, then write results.csv and the report.",
    };

    private static Option<double> InvisibilityTimeout() => new("--invisibility-timeout")
    {
        Description = "Seconds after which the cell of a worker that stopped sending heartbeats (killed, cut off) goes to another worker; " +
                      "sliding, so longer cells are not affected.",
        DefaultValueFactory = _ => new QueueOptions().InvisibilityTimeout.TotalSeconds,
    };

    /// <summary>The rest of `vigil bench --queue`: enqueue the grid, and with --wait follow it to its end.</summary>
    public static int Bench(BenchmarkRequest request, string queueAddress, bool wait, bool wide, CancellationToken cancel)
    {
        var queue = CellQueue.Open(queueAddress);
        request = request with { ResultsStore = request.ResultsStore ?? queueAddress };
        var grid = QueueBenchmark.Enqueue(request, queue, ConsoleDisplay.Instance);
        var (enqueued, queued, stored) = grid.Enqueued;
        Console.WriteLine($"Grid of {grid.Cells.Count} cells on queue {queue.Location}: {enqueued} enqueued, {queued} already queued or running, {stored} already stored in {grid.StoreLocation}.");
        if (!wait)
        {
            Console.WriteLine("Start workers with: vigil worker --queue <the same address> [--slots N]; follow with the same bench command and --wait, " +
                              "or Hangfire's dashboard: vigil worker --queue … --dashboard-port 8080, then http://127.0.0.1:8080" + JobDashboard.Path);
            return 0;
        }
        var followed = QueueBenchmark.Follow(request, grid, queue, ConsoleDisplay.Instance, TimeSpan.FromSeconds(2), cancel);
        var outcome = followed.Outcome;
        if (outcome.Cells.Count > 0) ResultTables.Render(outcome.Cells, wide);
        foreach (var (cell, error) in followed.Failed) AnsiConsole.MarkupLineInterpolated($"[red]failed:[/] {cell}: {error}");
        AnsiConsole.MarkupLineInterpolated($"Results: [bold]{outcome.CsvPath}[/] (one row per cell) and the store [bold]{outcome.StoreLocation}[/].");
        AnsiConsole.MarkupLineInterpolated($"Report: [bold]{outcome.ReportPath}[/]");
        return followed.Failed.Count == 0 ? 0 : CommandRunner.Failed;
    }

    public static Command Worker()
    {
        var queue = Queue();
        queue.Required = true;
        queue.Description = "The PostgreSQL database of the job queue, postgres://USER:PASSWORD@HOST:PORT/DATABASE (the address the grid was enqueued with).";
        var slots = new Option<int>("--slots")
        {
            Description = "Cells run at once. Each cell uses several threads: on CPU, about one slot per 4 cores (docs/distributed.md).",
            DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount / 4),
        };
        var queues = new Option<string[]>("--queues")
        {
            Description = $"Resource classes to take, comma-separated: {CellOrder.TrainedQueue} (models trained by gradient descent), " +
                          $"{CellOrder.MemoryQueue} (memory-bank and statistics models).",
            DefaultValueFactory = _ => [.. CellOrder.Queues],
            AllowMultipleArgumentsPerToken = true,
        };
        var results = SharedOptions.ResultsStore();
        results.Description = "Results store the cells go to (default: the queue's database); every worker and `vigil bench --queue` must name the same.";
        var output = new Option<string>("--out", "-o") { Description = "Folder for training checkpoints (a restarted cell resumes from its checkpoint).", DefaultValueFactory = _ => "vigil-worker" };
        var dashboard = new Option<int?>("--dashboard-port") { Description = "Also serve Hangfire's dashboard of the queue on http://127.0.0.1:PORT" + JobDashboard.Path + "." };
        var invisibility = InvisibilityTimeout();

        var command = new Command("worker",
            "Run benchmark cells from the queue until stopped (SIGTERM or Ctrl+C hands running cells back to the queue). Start one per machine; see docs/distributed.md.")
        {
            queue, slots, queues, results, output, dashboard, invisibility,
        };
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var address = parse.GetValue(queue)!;
            var cellQueue = CellQueue.Open(address, new QueueOptions { InvisibilityTimeout = TimeSpan.FromSeconds(parse.GetValue(invisibility)) });
            var request = new WorkerRequest(parse.GetValue(output)!, parse.GetValue(results) ?? address, parse.GetValue(slots),
                parse.GetValue(queues)!.SelectMany(q => q.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(), SharedOptions.Describe(parse));
            var served = parse.GetValue(dashboard) is int port ? JobDashboard.StartAsync(cellQueue, port).GetAwaiter().GetResult() : null;
            if (served != null) Console.WriteLine($"Dashboard: http://127.0.0.1:{parse.GetValue(dashboard)}{JobDashboard.Path}");
            try
            {
                CellWorker.Serve(cellQueue, request, new LogLines(), cancel);
            }
            finally
            {
                served?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A worker's log: one line per event, flushed at once (several cells run at once, and logs are read live).</summary>
    private sealed class LogLines : IWorkDisplay
    {
        private readonly Lock _gate = new();

        public T Run<T>(string title, Func<IProgress<WorkProgress>, T> work) => work(new Progress<WorkProgress>());

        public void Note(string text)
        {
            lock (_gate) Console.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {text}");
            Console.Out.Flush();
        }
    }
}
