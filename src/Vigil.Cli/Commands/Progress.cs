using Spectre.Console;
using Vigil.Engine;

namespace Vigil.Cli.Commands;

/// <summary>Progress bars for long work that reports (done, total); plain output when the console is redirected.</summary>
internal static class Progress
{
    public static T Run<T>(string description, Func<IProgress<(int Done, int Total)>, T> work) =>
        RunPhases(description, phases => work(new SyncProgress<(int Done, int Total)>(p => phases.Report(new("", p.Done, p.Total)))));

    /// <summary>One bar per phase of a benchmark cell ("fit", "test"), each created when its phase first reports.</summary>
    public static T RunPhases<T>(string description, Func<IProgress<CellRunner.CellProgress>, T> work)
    {
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(description);
            return work(new Progress<CellRunner.CellProgress>(_ => { }));
        }
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = work(new SyncProgress<CellRunner.CellProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Phase, out var task))
                        tasks[p.Phase] = task = ctx.AddTask(Markup.Escape(p.Phase.Length == 0 ? description : $"{description} {p.Phase}"));
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                }));
            });
        return result;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts asynchronously and would lag behind the work).</summary>
    private sealed class SyncProgress<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }
}
