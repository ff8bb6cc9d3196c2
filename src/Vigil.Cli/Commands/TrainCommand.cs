using System.CommandLine;
using Spectre.Console;
using Vigil.Detectors;
using Vigil.Inference;
using Vigil.Registry;
using Vigil.Settings;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil train`: a thin front end over <see cref="TrainModel"/>; prints what was trained and where it is.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model to fit, name[:key=value,...] (see 'vigil models'), e.g. patchcore or patchcore:coreset=0.01.",
            DefaultValueFactory = _ => "patchcore",
        };
        var data = SharedOptions.Data();
        var category = new Option<string?>("--category", "-c") { Description = "Category to train on; may be left out when the dataset has one category." };
        var backbone = new BackboneOptions(BackboneOptions.DefaultBackbone);
        var output = new Option<string?>("--out", "-o") { Description = "Model file to write (default: <model>-<dataset>-<category>.vgl in the current folder)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the model's random choices (coreset, channel subset) and of the validation hold-out.", DefaultValueFactory = _ => 0 };
        var calibration = new CalibrationOptionSet();
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var split = SharedOptions.Split();
        var setting = SharedOptions.Settings(repeatable: false);
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue an interrupted training (Ctrl+C, a killed process) from the checkpoint beside the model file (<out>.ckpt): " +
                          "the same run, ending with the weights an uninterrupted training would have.",
        };

        var command = new Command("train",
            "Fit a model on a category's normal training images and save it to one file (fitted state, options, backbone reference, " +
            "threshold and normalisation). Thresholds are fitted on validation images held back from training, never on test images. " +
            "Example: vigil train -m patchcore -d mtd -o mtd.vgl")
        {
            model, data, category, setting, output, seed, skipCorrupt, resume,
        };
        backbone.AddTo(command);
        calibration.AddTo(command);
        split.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var request = new TrainRequest
            {
                Model = DetectorRegistry.Parse(parse.GetValue(model)!),
                Backbone = backbone.Read(parse),
                Dataset = parse.GetValue(data)!,
                Category = parse.GetValue(category),
                Split = split.Read(parse),
                Setting = LearningSettings.Parse(parse.GetValue(setting)!.Single()),
                Seed = parse.GetValue(seed),
                Calibration = calibration.Read(parse),
                SkipCorrupt = parse.GetValue(skipCorrupt),
                Protocol = parse.GetValue(backbone.Protocol),
                OutputPath = parse.GetValue(output),
                Configuration = ConfigFile.Resolved(parse),
                Resume = parse.GetValue(resume),
            };
            var outcome = TrainModel.Run(request, ConsoleDisplay.Instance, cancel);

            var table = new Table().Title(Markup.Escape($"Trained {request.Model.Label}")).AddColumns("", "");
            table.AddRow("data", Markup.Escape($"{outcome.Dataset}/{outcome.Category}: {Counted.Of(outcome.TrainCount, "training image")}, {Counted.Of(outcome.ValidationCount, "validation image")}"));
            table.AddRow("backbone", Markup.Escape(outcome.Backbone));
            table.AddRow("fit", Markup.Escape($"{outcome.FitSeconds:F1} s; {outcome.StateSummary}, {outcome.StateBytes / 1048576.0:F1} MiB"));
            table.AddRow("threshold", outcome.Calibration is { } c
                ? Markup.Escape($"{c.Rule}: image score ≥ {c.ImageThreshold:G5} is anomalous; pixel ≥ {c.PixelThreshold:G5} ({(c.ValidationAnomalous == 0 ? Counted.Of(c.ValidationNormal, "normal validation image") : $"{c.ValidationNormal} normal and {c.ValidationAnomalous} anomalous validation images")})")
                : "[yellow]none (validation ratio 0): predictions get scores but no labels[/]");
            table.AddRow("model file", Markup.Escape($"{outcome.ModelPath} ({outcome.FileBytes / 1048576.0:F1} MiB)"));
            AnsiConsole.Write(table);
            foreach (var note in outcome.Notes) AnsiConsole.MarkupLineInterpolated($"[yellow]{note}[/]");
            foreach (var s in outcome.Skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            if (outcome.RandomWeights) AnsiConsole.MarkupLine("[yellow]The backbone has RANDOM weights: this model is for testing only.[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>--validation-ratio, --threshold and --synthetic-anomalies.</summary>
    private sealed class CalibrationOptionSet
    {
        private readonly Option<double> _ratio = new("--validation-ratio")
        {
            Description = $"Fraction of normal training images held back to fit the threshold and score normalisation, at least {CalibrationRequest.MinimumValidationImages} images (0 = none).",
            DefaultValueFactory = _ => 0.1,
        };
        private readonly Option<string> _rule = new("--threshold")
        {
            Description = $"How the threshold is chosen on the validation images: {ThresholdRule.Forms}.",
            DefaultValueFactory = _ => "fpr:0.01",
        };
        private readonly Option<bool> _synthetic = new("--synthetic-anomalies")
        {
            Description = "Add a CutPaste anomaly of every validation image to the validation set (needed for --threshold f1 without labelled anomalies).",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(_ratio);
            command.Options.Add(_rule);
            command.Options.Add(_synthetic);
        }

        public CalibrationRequest Read(ParseResult parse) =>
            new(parse.GetValue(_ratio), ThresholdRule.Parse(parse.GetValue(_rule)!), parse.GetValue(_synthetic));
    }
}
