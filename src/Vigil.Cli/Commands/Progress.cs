using System.Diagnostics;
using Spectre.Console;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>
/// The console's <see cref="IWorkDisplay"/>: a progress bar per phase on a terminal; when output is redirected (a log
/// file, CI, a worker), a line when work starts, then a progress line per phase at most every
/// <see cref="LogInterval"/> and when the phase ends, with an ETA. Reports may come from several threads at once
/// (e.g. a parallel loop writing the synthetic dataset); both sinks take them one at a time.
/// </summary>
internal sealed class ConsoleDisplay : IWorkDisplay
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    public static ConsoleDisplay Instance { get; } = new();

    public T Run<T>(string title, Func<IProgress<WorkProgress>, T> work)
    {
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(title);
            return work(new LogLines(title));
        }
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = work(new Sink(p =>
                {
                    if (!tasks.TryGetValue(p.Phase, out var task))
                        tasks[p.Phase] = task = ctx.AddTask(Markup.Escape(p.Phase.Length == 0 ? title : $"{title} {p.Phase}"));
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    if (p.Detail is not null) task.Description = Markup.Escape($"{title} {p.Phase} {p.Detail}");
                }));
            });
        return result;
    }

    public void Note(string text) => AnsiConsole.MarkupLineInterpolated($"[grey]{text}[/]");

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts asynchronously and would lag behind the work), one at a time.</summary>
    private sealed class Sink(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        private readonly Lock _gate = new();

        public void Report(WorkProgress value)
        {
            lock (_gate) report(value);
        }
    }

    /// <summary>Throttled progress lines for logs: "title phase: done/total (pct), ETA".</summary>
    internal sealed class LogLines(string title) : IProgress<WorkProgress>
    {
        private readonly Dictionary<string, (Stopwatch Clock, TimeSpan LastLine)> _phases = [];
        private readonly Lock _gate = new();

        public void Report(WorkProgress p)
        {
            lock (_gate) Write(p);
        }

        private void Write(WorkProgress p)
        {
            if (!_phases.TryGetValue(p.Phase, out var phase)) _phases[p.Phase] = phase = (Stopwatch.StartNew(), TimeSpan.Zero);
            var elapsed = phase.Clock.Elapsed;
            bool end = p.Done >= p.Total;
            if (!end && elapsed - phase.LastLine < LogInterval) return;
            _phases[p.Phase] = (phase.Clock, elapsed);
            var eta = p.Done > 0 && !end ? $", ETA {Format(elapsed * ((double)(p.Total - p.Done) / p.Done))}" : end ? $", {Format(elapsed)}" : "";
            var percent = p.Total > 0 ? $" ({100.0 * p.Done / p.Total:F0} %)" : "";
            Console.WriteLine($"  {title}{(p.Phase.Length > 0 ? " " + p.Phase : "")}: {p.Done}/{p.Total}{percent}{eta}{(p.Detail is null ? "" : ", " + p.Detail)}");
        }

        private static string Format(TimeSpan time) => time.TotalHours >= 1 ? $"{(int)time.TotalHours} h {time.Minutes:D2} min"
            : time.TotalMinutes >= 1 ? $"{(int)time.TotalMinutes} min {time.Seconds:D2} s" : $"{time.TotalSeconds:F0} s";
    }
}
