using System.CommandLine;
using Spectre.Console;
using Vigil.Data;
using Vigil.Imaging;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil datasets`: list the dataset kinds; show a dataset's categories, splits and defect types.</summary>
internal static class DatasetCommands
{
    public static Command Create()
    {
        var command = new Command("datasets", "List the dataset formats Vigil reads, or inspect one dataset.");
        command.SetAction(_ => CommandRunner.Run(_ => List()));
        command.Subcommands.Add(CreateShow());
        return command;
    }

    private static int List()
    {
        var table = new Table().AddColumns("dataset", "spec");
        foreach (var entry in DatasetCatalog.Known)
        {
            var usage = entry.Usage.Split("  ", 2);
            table.AddRow(Markup.Escape(entry.Name), Markup.Escape(usage.Length == 2 ? $"{usage[0]}   {usage[1]}" : entry.Usage));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Inspect one with [bold]vigil datasets show <spec>[/], e.g. [bold]vigil datasets show mtd[/].");
        return 0;
    }

    private static Command CreateShow()
    {
        var spec = new Argument<string>("spec") { Description = "Dataset spec, e.g. mtd, ksdd, synthetic, mvtec:/data/mvtec, folder:/my/images." };
        var category = SharedOptions.Category();
        var split = SharedOptions.Split();
        var check = new Option<bool>("--check") { Description = $"Decode every image and mask and report unreadable files and images below {ImageLimits.MinSide} pixels on a side (slow on big datasets)." };
        var command = new Command("show", "Print a dataset's categories with train/test counts per defect type.") { spec, category, check };
        split.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(_ =>
        {
            var dataset = Datasets.Open(parse.GetValue(spec)!, split.Read(parse), ConsoleDisplay.Instance);
            var categories = RunBenchmark.Categories(dataset, SharedOptions.Categories(parse.GetValue(category)));
            var table = new Table().AddColumns("category", "train normal", "test normal", "test anomalous", "defect types (test count)");
            int unreadable = 0, tiny = 0;
            foreach (var name in categories)
            {
                var data = dataset.Load(name);
                if (parse.GetValue(check))
                {
                    var found = ConsoleDisplay.Instance.Run($"checking {name}", progress => DatasetValidation.Check(data, skipCorrupt: true, WorkProgress.ForPhase(progress, "")));
                    foreach (var s in found.Skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]unreadable:[/] {s.Reason}");
                    foreach (var t in found.Tiny) AnsiConsole.MarkupLineInterpolated($"[yellow]too small:[/] {t.Text}");
                    (unreadable, tiny) = (unreadable + found.Skipped.Count, tiny + found.Tiny.Count);
                }
                var types = data.Test.Where(s => s.IsAnomalous).GroupBy(s => s.DefectType).OrderBy(g => g.Key)
                    .Select(g => $"{g.Key} ({g.Count()})");
                table.AddRow(Markup.Escape(name), $"{data.Train.Count(s => !s.IsAnomalous)}", $"{data.TestNormalCount}",
                    $"{data.TestAnomalousCount}", Markup.Escape(string.Join(", ", types)));
            }
            AnsiConsole.Write(table);
            if (!parse.GetValue(check)) return 0;
            if (unreadable + tiny == 0)
            {
                AnsiConsole.MarkupLine("[green]All images and masks decode, and every image is at least " + ImageLimits.MinSide + " pixels on a side.[/]");
                return 0;
            }
            var problems = new List<string>();
            if (unreadable > 0) problems.Add($"{Counted.Of(unreadable, "unreadable file")} (a run stops at them unless given --skip-corrupt)");
            if (tiny > 0) problems.Add($"{Counted.Of(tiny, "image")} below {ImageLimits.MinSide} pixels on a side (used, with a warning)");
            AnsiConsole.MarkupLineInterpolated($"[red]{string.Join("; ", problems)}.[/]");
            return CommandRunner.InputError;
        }));
        return command;
    }
}
