using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Engine;
using Vigil.Results;
using Vigil.Settings;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>
/// `vigil bench`: runs the grid models × datasets × categories × seeds, one cell each (fit on the training split,
/// score the test split, evaluate, time), prints the metric table and writes results under --out. Resumable.
/// </summary>
internal static class BenchCommand
{
    public const string DefaultBackbone = "mobilenetv2_int8_onnx";

    public static Command Create()
    {
        var models = new Option<string[]>("--models", "-m")
        {
            Description = $"Models to run (comma-separated): {string.Join(", ", DetectorCatalog.Known.Select(e => e.Name))}.",
            DefaultValueFactory = _ => ["patchcore", "padim"],
            AllowMultipleArgumentsPerToken = true,
        };
        var datasets = new Option<string[]>("--datasets", "-d")
        {
            Description = "Dataset specs (comma-separated), e.g. synthetic, mtd, ksdd, mvtec:/data/mvtec. See 'vigil datasets'.",
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
        var backbone = BackboneOptions.Backbone(DefaultBackbone);
        var weights = BackboneOptions.Weights();
        var output = new Option<string>("--out", "-o") { Description = "Output folder: results.sqlite (the default results store), results.csv, artifacts/, continual/, report/.", DefaultValueFactory = _ => "vigil-out" };
        var skipCorrupt = SharedOptions.SkipCorrupt();
        var trainRatio = SharedOptions.Split();
        var settings = SharedOptions.Settings(repeatable: true);
        var resultsStore = RecordedRun.Option();

        var command = new Command("bench",
            "Benchmark models on datasets: fit, test, evaluate (image/pixel AUROC, AU-PRO, …) and time every (model, dataset, category, seed) cell. " +
            "Finished cells are kept under --out and not recomputed when the run is repeated or resumed.")
        {
            models, datasets, categories, settings, seeds, backbone, weights, output, resultsStore, skipCorrupt,
        };
        trainRatio.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var modelEntries = SplitList(parse.GetValue(models)).Select(DetectorCatalog.Get).ToList();
            var backboneName = BackboneOptions.Require(parse.GetValue(backbone)!);
            var weightSource = WeightSource.Parse(parse.GetValue(weights)!);
            var specs = parse.GetValue(settings)!;
            var continual = specs.Select(s => ContinualSetting.TryParse(s, out var c) ? c : null).LastOrDefault(c => c != null);
            var settingList = specs.Where(s => !ContinualSetting.TryParse(s, out _)).Select(LearningSettings.Parse).ToList();
            var continualTasks = new Dictionary<int, List<(string Dataset, string Category, DatasetSplit Split)>>();
            // The weights' hash is part of every cell's configuration: other weights behind the same --weights text recompute.
            var weightsSha = WeightsFingerprint(backboneName, weightSource, modelEntries[0].Layers);
            using var store = RecordedRun.Begin(parse, resultsStore, parse.GetValue(output)!, backboneName, weightsSha);
            var results = new List<CellResult>();
            var skippedFiles = new List<SkippedFile>();
            foreach (var spec in SplitList(parse.GetValue(datasets)))
                foreach (int seed in parse.GetValue(seeds)!)
                {
                    var dataset = DatasetCatalog.Open(spec, trainRatio.Read(parse) with { Seed = seed });
                    foreach (var category in SharedOptions.SelectCategories(dataset, parse.GetValue(categories)))
                    {
                        var split = dataset.Load(category);
                        var (clean, skipped) = Progress.Run($"checking {dataset.Name}/{category}",
                            p => DatasetValidation.Check(split, parse.GetValue(skipCorrupt), p));
                        skippedFiles.AddRange(skipped);
                        if (continual != null)
                        {
                            continualTasks.TryAdd(seed, []);
                            continualTasks[seed].Add((dataset.Name, category, clean));
                        }
                        foreach (var setting in settingList)
                        {
                            var transformed = setting.Apply(clean, seed);
                            foreach (var model in modelEntries)
                            {
                                var key = new CellKey(model.Name, dataset.Name, category, setting.Name, seed);
                                var configuration = $"backbone={backboneName};weights={weightsSha};" +
                                                    $"ratio={trainRatio.Read(parse).TrainRatio};skipped={skipped.Count};setting={setting.Spec}";
                                if (store.TryFind(key, configuration, out var done))
                                {
                                    AnsiConsole.MarkupLineInterpolated($"[grey]{key}: finished earlier, kept[/]");
                                    results.Add(done!);
                                    continue;
                                }
                                var result = RunCell(key, model, backboneName, weightSource, seed, transformed.Split,
                                    CellArtifacts.DirectoryFor(parse.GetValue(output)!, key, configuration));
                                if (setting is not Unsupervised) result = result with { Notes = [transformed.Notes.Summary, .. result.Notes] };
                                store.Save(result, configuration);
                                results.Add(result);
                            }
                        }
                    }
                }
            var continualResults = continual == null ? [] : RunContinual(continual, continualTasks, modelEntries, backboneName, weightSource,
                $"backbone={backboneName};weights={weightsSha};ratio={trainRatio.Read(parse).TrainRatio};skipped={skippedFiles.Count}", parse.GetValue(output)!);
            if (results.Count > 0) ResultTables.Render(results);
            var csv = Path.Combine(parse.GetValue(output)!, "results.csv");
            WriteCsv(results, csv);
            foreach (var s in skippedFiles) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            store.Finish();
            AnsiConsole.MarkupLineInterpolated($"Results: [bold]{csv}[/] (one row per cell) and the store [bold]{store.Location}[/].");
            ReportCommand.Write(parse.GetValue(output)!, parse.GetValue(resultsStore));
            return 0;
        }));
        return command;
    }

    private static CellResult RunCell(CellKey key, DetectorCatalog.Entry model, string backbone, WeightSource weights, int seed, DatasetSplit split,
        string artifactsDirectory)
    {
        var extractor = BackboneCatalog.Open(backbone, weights, model.Layers);
        using var detector = model.Create(extractor, seed);
        return Progress.RunPhases(key.ToString(), progress =>
            CellRunner.Run(key, detector, split, progress: progress, artifactsDirectory: artifactsDirectory));
    }

    /// <summary>
    /// The continual setting: per seed and model, one detector learns the run's categories in order (see
    /// <see cref="ContinualRunner"/>). Each run is saved as JSON under &lt;out&gt;/continual/ and kept for resumption.
    /// </summary>
    private static List<ContinualResult> RunContinual(ContinualSetting continual, Dictionary<int, List<(string Dataset, string Category, DatasetSplit Split)>> tasksBySeed,
        IReadOnlyList<DetectorCatalog.Entry> models, string backbone, WeightSource weights, string configuration, string output)
    {
        var results = new List<ContinualResult>();
        foreach (var (seed, available) in tasksBySeed)
        {
            var tasks = continual.Select(available);
            if (tasks.Count < 2) throw new VigilInputException($"The continual setting needs at least two tasks; this run has {tasks.Count}. Add categories or datasets.");
            foreach (var model in models)
            {
                var name = $"{model.Name}_seed{seed}_{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
                    $"{configuration};tasks={string.Join("+", tasks.Select(t => t.Task))}")))[..12]}.json";
                var path = Path.Combine(output, ContinualFolder, name);
                ContinualResult result;
                if (File.Exists(path))
                {
                    AnsiConsole.MarkupLineInterpolated($"[grey]{model.Name} continual seed {seed}: finished earlier, kept[/]");
                    result = JsonSerializer.Deserialize<ContinualResult>(File.ReadAllText(path), ResultsStore.Json)!;
                }
                else
                {
                    using var detector = model.Create(BackboneCatalog.Open(backbone, weights, model.Layers), seed);
                    result = Progress.RunPhases($"{model.Name} continual seed {seed}", p => ContinualRunner.Run(detector, tasks,
                        progress: new Progress<ContinualRunner.ContinualProgress>(c =>
                            p.Report(new CellRunner.CellProgress($"{c.Phase} {c.Task}", c.Done, c.Total)))));
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(result, ResultsStore.Json));
                    File.Move(path + ".tmp", path, overwrite: true);
                }
                ResultTables.RenderContinual(result);
                results.Add(result);
            }
        }
        return results;
    }

    /// <summary>Where continual runs are kept under the output folder (read back by the report).</summary>
    public const string ContinualFolder = "continual";

    /// <summary>The weight file's SHA-256 as the backbone reports it (opened once, before any cell runs).</summary>
    internal static string WeightsFingerprint(string backbone, WeightSource weights, IReadOnlyList<string> layers)
    {
        using var extractor = BackboneCatalog.Open(backbone, weights, layers);
        return BackboneReference.Of(extractor).WeightsSha256;
    }

    private static IEnumerable<string> SplitList(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static void WriteCsv(IReadOnlyList<CellResult> results, string path)
    {
        var csv = new StringBuilder("model,dataset,category,setting,seed,backbone,random_weights,train,test,image_auroc,image_ap,image_f1_max,pixel_auroc,pixel_ap,pixel_f1_max,au_pro,pro_fpr_limit,resolution,fit_s,latency_median_ms,latency_p95_ms,throughput_images_per_s,throughput_batch,peak_working_set_bytes,state_bytes,model_file_bytes\n");
        foreach (var r in results)
        {
            var m = r.Metrics;
            var e = r.Efficiency;
            csv.AppendLine(string.Join(",", new object[]
            {
                r.Key.Model, r.Key.Dataset, r.Key.Category, r.Key.Setting, r.Key.Seed, r.Backbone, r.RandomWeights, r.TrainCount, r.TestCount,
                m.ImageAuroc, m.ImageAveragePrecision, m.ImageF1Max.F1, m.PixelAuroc, m.PixelAveragePrecision, m.PixelF1Max.F1,
                m.AuPro, m.ProFprLimit, m.Resolution, e.FitSeconds, e.LatencyMedianMs, e.LatencyP95Ms, e.ThroughputImagesPerSecond,
                e.ThroughputBatchSize, e.PeakWorkingSetBytes, e.StateBytes, e.ModelFileBytes,
            }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, csv.ToString());
    }
}
