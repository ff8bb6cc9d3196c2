using Spectre.Console;

namespace Vigil.Cli.Commands;

/// <summary>A progress bar for long work that reports (done, total).</summary>
internal static class Progress
{
    public static T Run<T>(string description, Func<IProgress<(int Done, int Total)>, T> work)
    {
        if (Console.IsOutputRedirected)
            return work(new Progress<(int, int)>(_ => { }));
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description));
                result = work(new SyncProgress(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                }));
                task.StopTask();
            });
        return result;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts asynchronously and would lag behind the work).</summary>
    private sealed class SyncProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
