using System.CommandLine;
using Spectre.Console;
using Vigil.Engine;
using Vigil.Reporting;

namespace Vigil.Cli.Commands;

/// <summary>`vigil report`: turns the finished cells of a bench run into an HTML page with plots and overlays.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "The bench output folder: cells are read from <out>/cells, the report is written to <out>/report/report.html.",
            DefaultValueFactory = _ => "vigil-out",
        };
        var command = new Command("report",
            "Write an HTML report of a benchmark run: metric tables per category and mean, ROC/PR/PRO curves, " +
            "accuracy-vs-latency-vs-memory bubbles, and anomaly-map overlays of the best and worst test images.")
        {
            output,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var directory = parse.GetValue(output)!;
            var page = HtmlReport.Write(Path.Combine(directory, "report"), ReadCells(directory));
            AnsiConsole.MarkupLineInterpolated($"Report: [bold]{Path.GetFullPath(page)}[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>The finished cells of the run in <paramref name="directory"/>; none is a <see cref="VigilInputException"/> saying what to run.</summary>
    internal static IReadOnlyList<CellResult> ReadCells(string directory)
    {
        var store = new CellStore(directory);
        var cells = store.LoadAll();
        if (cells.Count == 0)
            throw new VigilInputException($"No finished cells in {store.Directory}; run 'vigil bench --out {directory}' first.");
        return cells;
    }
}
