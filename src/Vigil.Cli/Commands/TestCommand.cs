using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vigil.Records;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil test`: a thin front end over <see cref="EvaluateModel"/>; prints the metric table and the threshold's decisions.</summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var modelFile = new ModelFileOptions();
        var data = new Option<string?>("--data", "-d") { Description = "Dataset spec to test on (default: the dataset the model was trained on)." };
        var category = new Option<string?>("--category", "-c") { Description = "Category to test on (default: the one the model was trained on)." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (holds the default results store).", DefaultValueFactory = _ => "vigil-out" };
        var resultsStore = SharedOptions.ResultsStore();
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var split = SharedOptions.Split();
        var wide = SharedOptions.Wide();
        var protocol = SharedOptions.Protocol();

        var command = new Command("test",
            "Evaluate a saved model on test images: image/pixel AUROC, AP, F1-max, AU-PRO, latency, and how its calibrated " +
            "threshold does. Refuses test images the model was trained or calibrated on. Example: vigil test -f mtd.vgl")
        {
            data, category, output, resultsStore, skipCorrupt, wide, protocol,
        };
        modelFile.AddTo(command);
        split.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var outcome = EvaluateModel.Run(new EvaluateRequest
            {
                ModelFile = modelFile.File(parse),
                Weights = modelFile.ReadWeights(parse),
                Dataset = parse.GetValue(data),
                Category = parse.GetValue(category),
                TrainRatio = split.GivenRatio(parse),
                SplitSeed = split.GivenSeed(parse),
                SkipCorrupt = parse.GetValue(skipCorrupt),
                Protocol = parse.GetValue(protocol),
                OutputDirectory = parse.GetValue(output)!,
                ResultsStore = parse.GetValue(resultsStore),
                Run = SharedOptions.Describe(parse),
            }, ConsoleDisplay.Instance, cancel);
            AnsiConsole.MarkupLineInterpolated($"Result stored in [bold]{outcome.StoreLocation}[/].");
            ResultTables.Render([outcome.Result], parse.GetValue(wide));
            if (outcome.Result.TestedModel is { Confusion: { } confusion } tested) RenderDecision(confusion, tested);
            else AnsiConsole.MarkupLine("[yellow]The model has no calibrated threshold (trained with --validation-ratio 0): no labels to judge.[/]");
            foreach (var s in outcome.Skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            return 0;
        }));
        return command;
    }

    private static void RenderDecision(ConfusionCounts k, TestedModel tested)
    {
        static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
        var table = new Table().Title(Markup.Escape($"At the calibrated threshold ({tested.ThresholdRule}: score ≥ {tested.Threshold:G5})"))
            .AddColumns("true positives", "false negatives", "false positives", "true negatives", "precision", "recall", "false-positive rate");
        table.AddRow($"{k.TruePositives}", $"{k.FalseNegatives}", $"{k.FalsePositives}", $"{k.TrueNegatives}", F(k.Precision), F(k.Recall), F(k.FalsePositiveRate));
        AnsiConsole.Write(table);
    }
}
