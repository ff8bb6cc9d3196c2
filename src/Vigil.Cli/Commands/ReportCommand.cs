using System.CommandLine;
using Spectre.Console;
using Vigil.Reporting;
using Vigil.Results;

namespace Vigil.Cli.Commands;

/// <summary>`vigil report`: turns the cells of a results store into an HTML page with plots and overlays.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "The bench/test output folder: its results store is read (unless --results names another), the report is written to <out>/report/report.html.",
            DefaultValueFactory = _ => "vigil-out",
        };
        var results = SharedOptions.ResultsStore();
        var command = new Command("report",
            "Write an HTML report of every cell in a results store (the latest result of each): metric tables per category and mean, " +
            "ROC/PR/PRO curves, accuracy-vs-latency-vs-memory bubbles, and anomaly-map overlays of the best and worst test images.")
        {
            output, results,
        };
        command.SetAction(parse => CommandRunner.Run(_ =>
        {
            var directory = parse.GetValue(output)!;
            var spec = parse.GetValue(results);
            if (string.IsNullOrWhiteSpace(spec) && !File.Exists(Path.Combine(directory, ResultsStore.DefaultFileName)))
                throw new VigilInputException($"'{Path.GetFullPath(directory)}' holds no results store ({ResultsStore.DefaultFileName}); run 'vigil bench --out {directory}' first, or name a store with --results.");
            using var store = ResultsStore.Open(spec, directory);
            var page = HtmlReport.Write(Path.Combine(directory, "report"), store);
            AnsiConsole.MarkupLineInterpolated($"Report: [bold]{Path.GetFullPath(page)}[/]");
            return 0;
        }));
        return command;
    }
}
