using System.Globalization;
using Spectre.Console;
using Vigil.Records;
using Vigil.Reporting;

namespace Vigil.Cli.Commands;

/// <summary>The metric table of finished cells, as `vigil bench` and `vigil test` print it; means come from the report's <see cref="MetricTable"/>.</summary>
internal static class ResultTables
{
    /// <param name="wide">All columns (about 170 characters); otherwise the ones that fit a 120-column terminal.</param>
    public static void Render(IReadOnlyList<CellResult> results, bool wide)
    {
        var table = new Table().Title("Vigil results").AddColumns("model", "dataset", "category", "setting", "seed", "image AUROC", "pixel AUROC", "AU-PRO");
        if (wide) table.AddColumns("image AP", "image F1-max");
        table.AddColumns("fit s", "p50 ms");
        if (wide) table.AddColumns("p95 ms", "img/s (batch)", "peak MiB", "model MiB");
        foreach (var r in results)
        {
            if (r.NotApplicable is not null)
            {
                table.AddRow([Markup.Escape(r.Key.Model), Markup.Escape(r.Key.Dataset), Markup.Escape(r.Key.Category), Markup.Escape(r.Key.Setting), $"{r.Key.Seed}",
                    .. Enumerable.Repeat("[grey]n/a[/]", table.Columns.Count - 5)]);
                continue;
            }
            var (m, e) = (r.Metrics, r.Efficiency);
            var row = new List<string> { Markup.Escape(r.Key.Model), Markup.Escape(r.Key.Dataset), Markup.Escape(r.Key.Category), Markup.Escape(r.Key.Setting), $"{r.Key.Seed}",
                F(m.ImageAuroc), F(m.PixelAuroc), F(m.AuPro) };
            if (wide) row.AddRange([F(m.ImageAveragePrecision), F(m.ImageF1Max.F1)]);
            row.AddRange([$"{e.FitSeconds:F1}", $"{e.LatencyMedianMs:F0}"]);
            if (wide) row.AddRange([$"{e.LatencyP95Ms:F0}", $"{e.ThroughputImagesPerSecond:F1} ({e.ThroughputBatchSize})", $"{e.PeakWorkingSetBytes / (1024 * 1024)}", $"{e.ModelFileBytes / 1048576.0:F1}"]);
            table.AddRow(row.ToArray());
        }
        foreach (var group in MetricTable.Build(results).Where(t => t.Mean.Cells > 1))
        {
            var mean = group.Mean;
            var row = new List<string> { $"[bold]{Markup.Escape(group.Model)}[/]", $"[bold]{Markup.Escape(group.Dataset)}[/]", "[bold]mean[/]", Markup.Escape(group.Setting), "",
                F(mean.ImageAuroc, mean, nameof(MetricRow.ImageAuroc)), F(mean.PixelAuroc, mean, nameof(MetricRow.PixelAuroc)), F(mean.AuPro, mean, nameof(MetricRow.AuPro)) };
            if (wide) row.AddRange([F(mean.ImageAveragePrecision, mean, nameof(MetricRow.ImageAveragePrecision)), F(mean.ImageF1Max, mean, nameof(MetricRow.ImageF1Max))]);
            row.AddRange(["", ""]);
            if (wide) row.AddRange(["", "", "", ""]);
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
        RenderLoco(results);
        if (MetricTable.Build(results).Any(t => t.Mean.Partial.Count > 0))
            AnsiConsole.MarkupLine("[grey]* mean over the cells where the metric is defined (NaN: undefined for the data, e.g. no defective pixel).[/]");
        if (!wide) AnsiConsole.MarkupLine("[grey]More columns (AP, F1-max, p95, throughput, memory, model size): --wide, or results.csv.[/]");
        foreach (var r in results.Where(r => r.RandomWeights))
            AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Key}: backbone {r.Backbone} has RANDOM weights — not a pretrained result.[/]");
        foreach (var r in results)
            foreach (var w in r.Metrics.Warnings.Concat(r.Loco?.Warnings ?? []).Concat(r.Notes)) AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Key}: {Shorten(w)}[/]");
    }

    /// <summary>The MVTec LOCO evaluation of the cells that have one: AUC-sPRO per FPR limit and image AUROC by kind of anomaly.</summary>
    private static void RenderLoco(IReadOnlyList<CellResult> results)
    {
        foreach (var loco in LocoTable.Build(results))
        {
            var table = new Table().Title(Markup.Escape($"MVTec LOCO: {loco.Model} on {loco.Dataset} ({loco.Setting}), AUC-sPRO up to each FPR limit"))
                .AddColumns("category", "anomalies", "cells", "image AUROC");
            foreach (double limit in loco.FprLimits) table.AddColumn($"sPRO@{limit.ToString(CultureInfo.InvariantCulture)}");
            foreach (var row in loco.Rows)
            {
                bool mean = row.Anomalies == "mean";
                string Bold(string text) => mean ? $"[bold]{text}[/]" : text;
                table.AddRow([Bold(Markup.Escape(row.Category)), Bold(row.Anomalies), $"{row.Cells}", Bold(F(row.ImageAuroc)), .. row.AucSpro.Select(v => Bold(F(v)))]);
            }
            AnsiConsole.Write(table);
        }
    }

    private static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("F3", CultureInfo.InvariantCulture);

    private static string F(double v, MetricRow row, string metric) => F(v) + (row.Partial.Contains(metric) ? "*" : "");

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
