using System.Globalization;
using Spectre.Console;
using Vigil.Engine;

namespace Vigil.Cli.Commands;

/// <summary>The metric table of finished cells, as `vigil bench` and `vigil test` print it.</summary>
internal static class ResultTables
{
    public static void Render(IReadOnlyList<CellResult> results)
    {
        var table = new Table().Title("Vigil results")
            .AddColumns("model", "dataset", "category", "setting", "seed", "image AUROC", "pixel AUROC", "AU-PRO", "image F1-max", "fit s", "latency ms (p50/p95)", "img/s (batch)", "peak MiB", "model MiB");
        foreach (var r in results)
            table.AddRow(r.Key.Model, r.Key.Dataset, Markup.Escape(r.Key.Category), Markup.Escape(r.Key.Setting), $"{r.Key.Seed}",
                F(r.Metrics.ImageAuroc), F(r.Metrics.PixelAuroc), F(r.Metrics.AuPro), F(r.Metrics.ImageF1Max.F1),
                $"{r.Efficiency.FitSeconds:F1}", $"{r.Efficiency.LatencyMedianMs:F0}/{r.Efficiency.LatencyP95Ms:F0}",
                $"{r.Efficiency.ThroughputImagesPerSecond:F1} ({r.Efficiency.ThroughputBatchSize})",
                $"{r.Efficiency.PeakWorkingSetBytes / (1024 * 1024)}", $"{r.Efficiency.ModelFileBytes / 1048576.0:F1}");
        foreach (var group in results.GroupBy(r => (r.Key.Model, r.Key.Dataset, r.Key.Setting)).Where(g => g.Count() > 1))
            table.AddRow($"[bold]{group.Key.Model}[/]", $"[bold]{group.Key.Dataset}[/]", "[bold]mean[/]", Markup.Escape(group.Key.Setting), "",
                F(group.Average(r => r.Metrics.ImageAuroc)), F(group.Average(r => r.Metrics.PixelAuroc)),
                F(group.Average(r => r.Metrics.AuPro)), F(group.Average(r => r.Metrics.ImageF1Max.F1)), "", "", "", "", "");
        AnsiConsole.Write(table);
        foreach (var r in results.Where(r => r.RandomWeights))
            AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Key}: backbone {r.Backbone} has RANDOM weights — not a pretrained result.[/]");
        foreach (var r in results)
            foreach (var w in r.Metrics.Warnings.Concat(r.Notes ?? [])) AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Key}: {Shorten(w)}[/]");
    }

    private static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("F3", CultureInfo.InvariantCulture);


    /// <summary>Notes can list hundreds of file names; the console shows their start, the results store keeps them whole.</summary>
    private static string Shorten(string note) => note.Length <= NoteLength ? note : note[..NoteLength] + " … (whole note in the results store)";

    private const int NoteLength = 240;

    /// <summary>A continual run's image-AUROC matrix (row = after learning that task) with its forgetting measure.</summary>
    public static void RenderContinual(ContinualResult result)
    {
        var metric = result.ImageAuroc;
        var table = new Table().Title(Markup.Escape($"{result.Model} continual: image AUROC after each task (rows) on each task (columns)"))
            .AddColumn("after \\ on");
        foreach (var task in result.Tasks) table.AddColumn(Markup.Escape(task));
        for (int k = 0; k < result.Tasks.Count; k++)
            table.AddRow([Markup.Escape(result.Tasks[k]), .. metric.Matrix[k].Select((v, j) => j > k ? "" : F(v))]);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"final average {F(metric.FinalAverage)}; forgetting measure {(metric.Forgetting is { } f ? F(f.Mean) : "n/a")}");
    }
}
