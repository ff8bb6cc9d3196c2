using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Vigil.Backbones;
using Vigil.Calibration;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Settings;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>
/// `vigil train`: fits one model on one category's training images, calibrates its threshold and score normalisation
/// on validation images held back from training, and saves everything a production line needs to one model file.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = $"Model to fit: {string.Join(", ", DetectorCatalog.Known.Select(e => e.Name))}.",
            DefaultValueFactory = _ => "patchcore",
        };
        var data = SharedOptions.Data();
        var category = new Option<string?>("--category", "-c") { Description = "Category to train on; may be left out when the dataset has one category." };
        var backbone = BackboneOptions.Backbone(BenchCommand.DefaultBackbone);
        var weights = BackboneOptions.Weights();
        var output = new Option<string?>("--out", "-o") { Description = "Model file to write (default: <model>-<dataset>-<category>.vgl in the current folder)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the model's random choices (coreset, channel subset) and of the validation hold-out.", DefaultValueFactory = _ => 0 };
        var calibration = CalibrationOptionSet.Create();
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var split = SharedOptions.Split();
        var setting = SharedOptions.Settings(repeatable: false);

        var command = new Command("train",
            "Fit a model on a category's normal training images and save it to one file (memory bank or statistics, options, " +
            "backbone reference, threshold and normalisation). Thresholds are fitted on validation images held back from " +
            "training, never on test images. Example: vigil train -m patchcore -d mtd -o mtd.vgl")
        {
            model, data, category, setting, backbone, weights, output, seed, skipCorrupt,
        };
        calibration.AddTo(command);
        split.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var entry = DetectorCatalog.Get(parse.GetValue(model)!);
            var backboneName = BackboneOptions.Require(parse.GetValue(backbone)!);
            var weightSource = WeightSource.Parse(parse.GetValue(weights)!);
            var rule = calibration.Rule(parse);
            var learningSetting = LearningSettings.Parse(parse.GetValue(setting)!.Single());
            var spec = parse.GetValue(data)!;
            var splitOptions = split.Read(parse);
            var dataset = DatasetCatalog.Open(spec, splitOptions);
            var categoryName = SharedOptions.SingleCategory(dataset, parse.GetValue(category));
            var (clean, skipped) = Progress.Run($"checking {dataset.Name}/{categoryName}",
                p => DatasetValidation.Check(dataset.Load(categoryName), parse.GetValue(skipCorrupt), p));
            int seedValue = parse.GetValue(seed);
            var transformed = learningSetting.Apply(clean, seedValue);
            // These detectors learn from normal images only: labelled anomalies of a supervised setting join the
            // validation set instead, where they let an F1-optimal threshold be fitted without synthetic anomalies.
            var (heldOut, validationNormals) = ValidationSplit.Take(transformed.Train, calibration.Ratio(parse), seedValue);
            var train = heldOut.Where(s => !s.IsAnomalous).ToList();
            var validation = validationNormals.Count == 0 ? validationNormals : [.. validationNormals, .. heldOut.Where(s => s.IsAnomalous)];
            var path = parse.GetValue(output) ?? $"{entry.Name}-{dataset.Name}-{categoryName}.vgl".Replace('/', '-');

            using var detector = entry.Create(BackboneCatalog.Open(backboneName, weightSource, entry.Layers), seedValue);
            var clock = Stopwatch.StartNew();
            Progress.Run($"fitting {entry.Name} on {dataset.Name}/{categoryName} ({train.Count} images)", p => { detector.Fit(train, p); return 0; });
            double fitSeconds = clock.Elapsed.TotalSeconds;
            if (validation.Count > 0)
                detector.Calibration = Progress.Run($"calibrating on {validation.Count} validation images",
                    p => Calibrator.Fit(detector, validation, rule, calibration.Synthetic(parse), seedValue, p));
            detector.Provenance = new ModelProvenance(spec, categoryName, splitOptions.TrainRatio, splitOptions.Seed, learningSetting.Spec,
                seedValue, train.Select(s => s.SourcePath).ToList(), validation.Select(s => s.SourcePath).ToList(),
                VigilBuild.Version, VigilBuild.GitCommit, DateTime.UtcNow, fitSeconds, ConfigFile.Resolved(parse));
            detector.Save(path);

            var table = new Table().Title($"Trained {entry.Name}").AddColumns("", "");
            table.AddRow("data", Markup.Escape($"{dataset.Name}/{categoryName}: {train.Count} training, {validation.Count} validation images"));
            table.AddRow("backbone", Markup.Escape($"{detector.Extractor.Name} ({string.Join(", ", entry.Layers)})"));
            table.AddRow("fit", $"{fitSeconds:F1} s, state {detector.StateBytes / 1048576.0:F1} MiB");
            table.AddRow("threshold", detector.Calibration is { } c
                ? Markup.Escape($"{c.Rule}: image score ≥ {c.ImageThreshold:G5} is anomalous; pixel ≥ {c.PixelThreshold:G5} ({c.ValidationNormal} normal, {c.ValidationAnomalous} anomalous validation images)")
                : "[yellow]none (validation ratio 0): predictions get scores but no labels[/]");
            table.AddRow("model file", Markup.Escape($"{Path.GetFullPath(path)} ({new FileInfo(path).Length / 1048576.0:F1} MiB)"));
            AnsiConsole.Write(table);
            if (learningSetting is not Unsupervised) AnsiConsole.MarkupLineInterpolated($"setting {learningSetting.Name}: {transformed.Notes.Summary}");
            if (transformed.TrainAnomalousCount > 0)
                AnsiConsole.MarkupLineInterpolated($"[yellow]{entry.Name} cannot learn from labelled anomalies: the {transformed.TrainAnomalousCount} moved into training {(validation.Count > 0 ? "calibrate the threshold instead" : "were left out")}.[/]");
            foreach (var s in skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            if (detector.Extractor.IsRandomlyInitialised)
                AnsiConsole.MarkupLine("[yellow]The backbone has RANDOM weights: this model is for testing only.[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>--validation-ratio, --threshold and --synthetic-anomalies.</summary>
    internal sealed class CalibrationOptionSet
    {
        private readonly Option<double> _ratio = new("--validation-ratio")
        {
            Description = "Fraction of normal training images held back to fit the threshold and score normalisation (0 = none).",
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

        public static CalibrationOptionSet Create() => new();

        public void AddTo(Command command)
        {
            command.Options.Add(_ratio);
            command.Options.Add(_rule);
            command.Options.Add(_synthetic);
        }

        public double Ratio(ParseResult parse) => parse.GetValue(_ratio);
        public ThresholdRule Rule(ParseResult parse) => ThresholdRule.Parse(parse.GetValue(_rule)!);
        public bool Synthetic(ParseResult parse) => parse.GetValue(_synthetic);
    }
}
