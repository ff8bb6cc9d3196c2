using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Vigil.Engine;
using Vigil.Reporting;
using Vigil.Results;

namespace Vigil.Cli.Commands;

/// <summary>`vigil report`: turns the finished cells of a bench run into an HTML page with plots and overlays.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "The bench/test output folder: results are read from its store, the report is written to <out>/report/report.html.",
            DefaultValueFactory = _ => "vigil-out",
        };
        var results = RecordedRun.Option();
        var command = new Command("report",
            "Write an HTML report of a benchmark run: metric tables per category and mean, ROC/PR/PRO curves, " +
            "accuracy-vs-latency-vs-memory bubbles, and anomaly-map overlays of the best and worst test images.")
        {
            output, results,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var directory = parse.GetValue(output)!;
            Write(directory, parse.GetValue(results));
            return 0;
        }));
        return command;
    }

    /// <summary>Writes the report of every cell in the store (the latest result of each) and prints where it is.</summary>
    internal static void Write(string directory, string? results)
    {
        IReadOnlyList<CellResult> cells;
        string location;
        using (var store = ResultsStore.Open(results, directory))
        {
            cells = store.LatestCells().Select(c => c.Result).ToList();
            location = store.Location;
        }
        var continualFolder = Path.Combine(directory, BenchCommand.ContinualFolder);
        var continual = Directory.Exists(continualFolder)
            ? Directory.GetFiles(continualFolder, "*.json").Order(StringComparer.Ordinal)
                .Select(f => JsonSerializer.Deserialize<ContinualResult>(File.ReadAllText(f), ResultsStore.Json)
                             ?? throw new VigilInputException($"Continual result '{f}' is empty; delete it and rerun."))
                .ToList()
            : [];
        if (cells.Count == 0 && continual.Count == 0)
            throw new VigilInputException($"No finished cells in {location}; run 'vigil bench --out {directory}' first.");
        var page = HtmlReport.Write(Path.Combine(directory, "report"), cells, continual: continual);
        AnsiConsole.MarkupLineInterpolated($"Report: [bold]{Path.GetFullPath(page)}[/]");
    }
}
