using System.CommandLine;
using Spectre.Console;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Settings;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil bench`: a thin front end over <see cref="RunBenchmark"/>; prints the metric table and where results are.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models", "-m")
        {
            Description = $"Models to run, comma-separated or repeated, each name[:key=value,...], e.g. patchcore:coreset=0.01,padim. Known: {string.Join(", ", DetectorRegistry.All.Select(m => m.Info.Name))} (options: 'vigil models').",
            DefaultValueFactory = _ => ["patchcore,padim"],
            AllowMultipleArgumentsPerToken = true,
        };
        var datasets = new Option<string[]>("--datasets", "-d")
        {
            Description = "Dataset specs, comma-separated or repeated (a comma inside a path is kept), e.g. synthetic, mtd, ksdd, mvtec:/data/mvtec. See 'vigil datasets'.",
            DefaultValueFactory = _ => ["synthetic"],
            AllowMultipleArgumentsPerToken = true,
        };
        var categories = SharedOptions.Category();
        var seeds = new Option<int[]>("--seeds")
        {
            Description = "Seeds (comma-separated); each seeds the train/test split of datasets without an official one and the model's random choices.",
            DefaultValueFactory = _ => [0],
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                .Select(v => int.TryParse(v, out int s) ? s : throw new VigilInputException($"Seed '{v}' is not an integer.")).ToArray(),
        };
        var backbone = new BackboneOptions(BackboneOptions.DefaultBackbone);
        var output = new Option<string>("--out", "-o") { Description = "Output folder: results.sqlite (the default results store), results.csv, report/.", DefaultValueFactory = _ => "vigil-out" };
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var trainRatio = SharedOptions.TrainRatio();
        var settings = SharedOptions.Settings(repeatable: true);
        var resultsStore = SharedOptions.ResultsStore();
        var wide = SharedOptions.Wide();
        var queue = QueueCommands.Queue();
        var wait = QueueCommands.Wait();

        var command = new Command("bench",
            "Benchmark models on datasets: fit, test, evaluate (image/pixel AUROC, AU-PRO, …) and time every (model, dataset, category, setting, seed) cell. " +
            "Finished cells are kept in the results store and not recomputed when the run is repeated or resumed.")
        {
            models, datasets, categories, settings, seeds, output, resultsStore, skipCorrupt, trainRatio, wide, ConfigFile.PresetOption(), queue, wait,
        };
        backbone.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var specs = parse.GetValue(settings)!;
            var request = new BenchmarkRequest
            {
                Models = SpecLists.Models(parse.GetValue(models)).Select(DetectorRegistry.Parse).ToList(),
                Backbone = backbone.Read(parse),
                Datasets = SpecLists.Datasets(parse.GetValue(datasets)),
                Categories = SharedOptions.Categories(parse.GetValue(categories)),
                Settings = specs.Where(s => !ContinualSetting.TryParse(s, out _)).Select(LearningSettings.Parse).ToList(),
                Continual = specs.Select(s => ContinualSetting.TryParse(s, out var c) ? c : null).LastOrDefault(c => c != null),
                Seeds = parse.GetValue(seeds)!,
                TrainRatio = parse.GetValue(trainRatio),
                SkipCorrupt = parse.GetValue(skipCorrupt),
                Protocol = parse.GetValue(backbone.Protocol),
                OutputDirectory = parse.GetValue(output)!,
                ResultsStore = parse.GetValue(resultsStore),
                Run = SharedOptions.Describe(parse),
            };
            if (parse.GetValue(queue) is { } queueAddress) return QueueCommands.Bench(request, queueAddress, parse.GetValue(wait), parse.GetValue(wide), cancel);
            if (parse.GetValue(wait)) throw new VigilInputException("--wait follows a grid on the queue; give --queue too.");
            var outcome = RunBenchmark.Run(request, ConsoleDisplay.Instance, cancel);
            foreach (var continual in outcome.Continual) ResultTables.RenderContinual(continual);
            if (outcome.Cells.Count > 0) ResultTables.Render(outcome.Cells, parse.GetValue(wide));
            foreach (var s in outcome.Skipped) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            AnsiConsole.MarkupLineInterpolated($"Results: [bold]{outcome.CsvPath}[/] (one row per cell) and the store [bold]{outcome.StoreLocation}[/].");
            AnsiConsole.MarkupLineInterpolated($"Report: [bold]{outcome.ReportPath}[/]");
            return 0;
        }));
        return command;
    }
}
