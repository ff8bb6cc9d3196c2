using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Engine;
using Vigil.Settings;

namespace Vigil.Cli.Commands;

/// <summary>
/// `vigil test`: evaluates a saved model on a test split (by default the one of the data it was trained on), prints the
/// metric table and the calibrated threshold's confusion counts, and stores the result.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var modelFile = new ModelFileOptions();
        var data = new Option<string?>("--data", "-d") { Description = "Dataset spec to test on (default: the dataset the model was trained on)." };
        var category = new Option<string?>("--category", "-c") { Description = "Category to test on (default: the one the model was trained on)." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (holds the default results store).", DefaultValueFactory = _ => "vigil-out" };
        var resultsStore = RecordedRun.Option();
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var split = SharedOptions.Split();

        var command = new Command("test",
            "Evaluate a saved model on test images: image/pixel AUROC, AP, F1-max, AU-PRO, latency, and how its calibrated " +
            "threshold does. Refuses test images the model was trained or calibrated on. Example: vigil test -f mtd.vgl")
        {
            data, category, output, resultsStore, skipCorrupt,
        };
        modelFile.AddTo(command);
        split.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            using var detector = modelFile.Load(parse);
            var provenance = detector.Provenance;
            var spec = parse.GetValue(data) ?? provenance?.Dataset
                ?? throw new VigilInputException($"Model file '{parse.GetValue(modelFile.Path)}' does not record its training data; say which data to test on with --data.");
            var splitOptions = split.ReadOr(parse, provenance is null ? SplitOptions.Default : new SplitOptions(provenance.TrainRatio, provenance.SplitSeed));
            var dataset = DatasetCatalog.Open(spec, splitOptions);
            var categoryName = SharedOptions.SingleCategory(dataset, parse.GetValue(category) ?? provenance?.Category);
            var (clean, skipped) = Progress.Run($"checking {dataset.Name}/{categoryName}",
                p => DatasetValidation.Check(dataset.Load(categoryName), parse.GetValue(skipCorrupt), p));
            // The model's setting may have moved test images into training (supervised, noisy): apply it again, same seed.
            var setting = LearningSettings.Parse(provenance?.Setting ?? CellKey.Unsupervised);
            int seed = (int)(provenance?.Seed ?? 0);
            var transformed = setting.Apply(clean, seed);
            var test = transformed.Test;
            // Only the noisy setting's overlap option puts images in both training and test, by design (IM-IAD allows it).
            RequireUnseen(test, provenance, setting is NoisyLabels { Overlap: true } ? transformed.Notes.Chosen : []);

            var key = new CellKey(detector.Name, dataset.Name, categoryName, setting.Name, seed);
            var configuration = $"test;model={Path.GetFullPath(parse.GetValue(modelFile.Path)!)};ratio={splitOptions.TrainRatio};splitseed={splitOptions.Seed}";
            var artifacts = CellArtifacts.DirectoryFor(parse.GetValue(output)!, key, configuration);
            var result = Progress.RunPhases(key.ToString(), p => CellRunner.Test(key, detector, test, provenance?.FitSeconds ?? double.NaN, progress: p, artifactsDirectory: artifacts))
                with { TrainCount = provenance?.TrainImages.Count ?? 0 };
            var reference = BackboneReference.Of(detector.Extractor);
            using (var store = RecordedRun.Begin(parse, resultsStore, parse.GetValue(output)!, reference.Name, reference.WeightsSha256))
            {
                store.Save(result, configuration);
                store.Finish();
                AnsiConsole.MarkupLineInterpolated($"Result stored in [bold]{store.Location}[/].");
            }

            ResultTables.Render([result]);
            if (detector.Calibration is { } calibration) RenderDecision(result, calibration.ImageThreshold, calibration.Rule);
            else AnsiConsole.MarkupLine("[yellow]The model has no calibrated threshold (trained with --validation-ratio 0): no labels to judge.[/]");
            foreach (var s in skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            return 0;
        }));
        return command;
    }

    /// <summary>A test image the model has seen would inflate every metric; refuse rather than report it.</summary>
    private static void RequireUnseen(IReadOnlyList<Sample> test, ModelProvenance? provenance, IReadOnlyList<string> allowedIds)
    {
        if (provenance is null) return;
        var seen = provenance.TrainImages.Concat(provenance.ValidationImages).Select(Path.GetFullPath).ToHashSet();
        var overlap = test.Where(s => seen.Contains(Path.GetFullPath(s.SourcePath)) && !allowedIds.Contains(s.Id)).Select(s => s.SourcePath).ToList();
        if (overlap.Count > 0)
            throw new VigilInputException(
                $"{overlap.Count} test image(s) were used to train or calibrate this model, e.g. '{overlap[0]}'. Test on the split it was " +
                "trained with (leave out --train-ratio/--split-seed to use the recorded ones) or on other data.");
    }

    private static void RenderDecision(CellResult result, float threshold, string rule)
    {
        int tp = result.Images.Count(i => i.Anomalous && i.Score >= threshold), fn = result.Images.Count(i => i.Anomalous) - tp;
        int fp = result.Images.Count(i => !i.Anomalous && i.Score >= threshold), tn = result.Images.Count(i => !i.Anomalous) - fp;
        string Ratio(int a, int b) => b == 0 ? "n/a" : ((double)a / b).ToString("F3", CultureInfo.InvariantCulture);
        var table = new Table().Title(Markup.Escape($"At the calibrated threshold ({rule}: score ≥ {threshold:G5})"))
            .AddColumns("true positives", "false negatives", "false positives", "true negatives", "precision", "recall", "false-positive rate");
        table.AddRow($"{tp}", $"{fn}", $"{fp}", $"{tn}", Ratio(tp, tp + fp), Ratio(tp, tp + fn), Ratio(fp, fp + tn));
        AnsiConsole.Write(table);
    }
}
