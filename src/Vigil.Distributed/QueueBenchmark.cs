using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Results;
using Vigil.Settings;
using Vigil.UseCases;

namespace Vigil.Distributed;

/// <summary>A grid put on the queue: its cells (stored, queued earlier or queued now) and what enqueuing did.</summary>
public sealed record QueuedGrid(IReadOnlyList<CellOrder> Cells, IReadOnlyList<SkippedFile> Skipped, CellQueue.EnqueueOutcome Enqueued, string StoreLocation);

/// <summary>A followed grid at its end: the single-machine outcome of the stored cells, and the cells that failed with their errors.</summary>
public sealed record FollowedGrid(BenchmarkOutcome Outcome, IReadOnlyList<(CellSpec Cell, string Error)> Failed);

/// <summary>
/// The benchmark grid on the queue: <see cref="Enqueue"/> puts one job per missing cell on it and returns;
/// <see cref="Follow"/> waits for the workers to store or fail every cell, then writes results.csv and the report as a
/// single-machine run (<see cref="RunBenchmark"/>) does.
/// </summary>
public static class QueueBenchmark
{
    public static QueuedGrid Enqueue(BenchmarkRequest request, CellQueue queue, IWorkDisplay display)
    {
        if (request.Continual is not null)
            throw new VigilInputException("The continual setting trains one detector task after task, so it does not run on the queue; leave out --queue or the setting.");
        request = request.WithTiledModels(); // the tiling travels in each cell's specification
        BenchmarkGrid.Check(request, display);
        var skipped = new List<SkippedFile>();
        var orders = BenchmarkGrid.Categories(request, display)
            .SelectMany(category =>
            {
                skipped.AddRange(category.Skipped);
                return request.Settings.SelectMany(setting => BenchmarkGrid.Cells(request, category, setting)
                    .Where(cell => Applicable(cell, setting, display)));
            })
            .Select(cell => (Order: CellOrder.For(request, cell), Queue: CellOrder.QueueFor(cell.Model)))
            .ToList();
        using var store = ResultsStore.Open(request.ResultsStore, request.OutputDirectory);
        var outcome = queue.Enqueue(orders, store);
        return new QueuedGrid(orders.Select(o => o.Order).ToList(), skipped, outcome, store.Location);
    }

    /// <summary>A cell whose model cannot run its setting is not queued; its "not applicable" reason is noted (not stored: no worker runs it).</summary>
    private static bool Applicable(GridCell cell, LearningSetting setting, IWorkDisplay display)
    {
        if (SettingSupport.WhyNot(cell.Model, setting) is not { } reason) return true;
        display.Note($"{cell.Spec}: {reason}");
        return false;
    }

    /// <summary>Polls the store and the queue every <paramref name="poll"/> until no cell of the grid is pending, noting each change.</summary>
    public static FollowedGrid Follow(BenchmarkRequest request, QueuedGrid grid, CellQueue queue, IWorkDisplay display, TimeSpan poll, CancellationToken cancel)
    {
        var pending = grid.Cells.DistinctBy(c => c.Hash).ToDictionary(c => c.Hash);
        var failed = new List<(CellSpec, string)>();
        int total = pending.Count, lastShown = -1;
        while (true)
        {
            using (var store = ResultsStore.Open(request.ResultsStore, request.OutputDirectory))
                foreach (var (hash, order) in pending.ToList())
                {
                    var (status, error) = queue.Status(hash, store);
                    if (status == CellStatus.Pending) continue;
                    pending.Remove(hash);
                    if (status == CellStatus.Failed)
                    {
                        failed.Add((order.Spec, error ?? "failed"));
                        display.Note($"{order.Spec}: failed: {error}");
                    }
                }
            if (pending.Count != lastShown) display.Note($"{total - pending.Count - failed.Count} of {total} cells stored, {failed.Count} failed, {pending.Count} waiting or running");
            lastShown = pending.Count;
            if (pending.Count == 0) break;
            if (cancel.WaitHandle.WaitOne(poll)) cancel.ThrowIfCancellationRequested();
        }

        using var results = ResultsStore.Open(request.ResultsStore, request.OutputDirectory);
        var cells = grid.Cells.Select(c => results.TryFindCell(c.Hash, out var cell) ? cell : null).OfType<CellResult>().ToList();
        var csv = Path.Combine(request.OutputDirectory, "results.csv");
        ResultsCsv.Write(cells, csv);
        var report = HtmlReport.Write(Path.Combine(request.OutputDirectory, "report"), results);
        return new FollowedGrid(new BenchmarkOutcome(cells, [], grid.Skipped, csv, results.Location, report), failed);
    }
}
