using System.CommandLine;
using Spectre.Console;
using Vigil.Imaging;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil predict`: a thin front end over <see cref="PredictImages"/>.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var modelFile = new ModelFileOptions();
        var inputs = new Argument<string[]>("images") { Description = "Image files and/or folders of images.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the maps and the predictions files.", DefaultValueFactory = _ => "vigil-predictions" };
        var fullSize = new Option<bool>("--full-size-maps")
        {
            Description = $"Write heat maps and overlays at the size each image is decoded to: its own, up to {ImageLimits.MaxDecodeSide} pixels on the longer side " +
                          $"(default: scaled so the longer side is at most {PredictRequest.DefaultMaxMapSide} pixels).",
        };
        var command = new Command("predict",
            "Score new images with a model from 'vigil train': anomaly score, normalised score (0.5 = threshold), label, and an " +
            "anomaly-map heat map and overlay per image. Example: vigil predict -f mtd.vgl line-camera/*.png")
        {
            inputs, output, fullSize,
        };
        modelFile.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var outcome = PredictImages.Run(new PredictRequest
            {
                ModelFile = modelFile.File(parse),
                Weights = modelFile.ReadWeights(parse),
                Inputs = parse.GetValue(inputs)!,
                OutputFolder = parse.GetValue(output)!,
                MaxMapSide = parse.GetValue(fullSize) ? null : PredictRequest.DefaultMaxMapSide,
            }, ConsoleDisplay.Instance, cancel);
            var rows = outcome.Rows;
            if (!outcome.Calibrated)
                AnsiConsole.MarkupLine("[yellow]The model has no calibrated threshold: scores only, no labels; maps are scaled per image.[/]");
            int failed = rows.Count(r => r.Error != null), anomalous = rows.Count(r => r.Anomalous == true), scored = rows.Count - failed;
            AnsiConsole.MarkupLineInterpolated($"{Counted.Of(scored, "image")} scored{(outcome.Calibrated ? $", {anomalous} anomalous" : "")}; maps and predictions.csv/json in [bold]{outcome.OutputFolder}[/].");
            foreach (var r in rows.Where(r => r.Warning != null)) Console.Error.WriteLine($"warning: {r.Warning}");
            foreach (var r in rows.Where(r => r.Error != null)) Console.Error.WriteLine($"error: {r.Error}");
            return failed == 0 ? 0 : CommandRunner.Failed;
        }));
        return command;
    }
}
