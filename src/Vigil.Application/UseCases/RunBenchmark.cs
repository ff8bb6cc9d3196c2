using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Settings;
using Vigil.Training;
using Vigil.Weights;

namespace Vigil.UseCases;

/// <summary>A benchmark grid: models × datasets × categories × settings × seeds, plus continual runs.</summary>
public sealed record BenchmarkRequest
{
    public required IReadOnlyList<ModelSpec> Models { get; init; }
    public required BackboneChoice Backbone { get; init; }

    /// <summary>Dataset specs, e.g. "synthetic", "mtd", "mvtec:/data/mvtec".</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    /// <summary>Categories to run in every dataset; empty = all of each dataset's.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<LearningSetting> Settings { get; init; } = [LearningSettings.Default];

    /// <summary>The continual setting over the run's categories; null = none.</summary>
    public ContinualSetting? Continual { get; init; }

    public IReadOnlyList<int> Seeds { get; init; } = [0];
    public double TrainRatio { get; init; } = SplitOptions.DefaultTrainRatio;
    public bool SkipCorrupt { get; init; }
    public EvaluationOptions Evaluation { get; init; } = new();

    /// <summary>How images reach each model and where pixel metrics are computed.</summary>
    public InputProtocol Protocol { get; init; } = InputProtocol.Backbone;

    /// <summary>Run every model on tiles of the images (<c>--tile</c>); null = whole images.</summary>
    public Tiling? Tiling { get; init; }

    /// <summary>
    /// This request with each model wrapped in the tiling as it runs, before its cells get their specifications (the
    /// tiling is part of a cell's identity).
    /// </summary>
    public BenchmarkRequest WithTiledModels() => this with { Models = Models.Select(m => Protocol.WithTiling(m, Tiling)).ToList() };

    /// <summary>Where results.csv, the default SQLite store and the report go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>A results store spec (see <see cref="Results.ResultsStore.Open"/>); null = the SQLite file in the output folder.</summary>
    public string? ResultsStore { get; init; }

    public required RunDescription Run { get; init; }
}

/// <summary>What a benchmark produced; cells finished earlier (same specification) are included as they were stored.</summary>
public sealed record BenchmarkOutcome(
    IReadOnlyList<CellResult> Cells,
    IReadOnlyList<ContinualResult> Continual,
    IReadOnlyList<SkippedFile> Skipped,
    string CsvPath,
    string StoreLocation,
    string ReportPath);

/// <summary>
/// Runs a benchmark grid: every cell is fitted, tested, evaluated and timed (see <see cref="CellRunner"/>) and saved
/// to the results store as it finishes; cells already in the store with the same specification are kept, not
/// recomputed, and a gradient training resumes from its checkpoint, so a killed run resumes. Ends with results.csv and the HTML report of the whole store.
/// </summary>
public static class RunBenchmark
{
    public static BenchmarkOutcome Run(BenchmarkRequest request, IWorkDisplay display, CancellationToken cancel = default)
    {
        request = request.WithTiledModels();
        BenchmarkGrid.Check(request, display); // unknown datasets and categories fail before anything is written

        var backbone = request.Backbone;
        using var run = RecordedRun.Begin(request.ResultsStore, request.OutputDirectory, request.Run, backbone.Name, backbone.WeightsSha256);
        try
        {
            var cells = new List<CellResult>();
            var skippedFiles = new List<SkippedFile>();
            var continualTasks = new Dictionary<int, List<(string Dataset, string Category, DatasetSplit Split)>>();
            foreach (var category in BenchmarkGrid.Categories(request, display))
            {
                skippedFiles.AddRange(category.Skipped);
                if (request.Continual != null)
                {
                    continualTasks.TryAdd(category.Seed, []);
                    continualTasks[category.Seed].Add((category.Dataset, category.Category, category.Clean));
                }
                foreach (var setting in request.Settings)
                {
                    var transformed = setting.Apply(category.Clean, category.Seed);
                    foreach (var cell in BenchmarkGrid.Cells(request, category, setting))
                    {
                        cancel.ThrowIfCancellationRequested();
                        if (SettingSupport.WhyNot(cell.Model, setting) is { } reason)
                        {
                            cells.Add(RecordNotApplicable(cell.Spec, cell.Backbone, reason, run, display));
                            continue;
                        }
                        if (run.Store.TryFindCell(cell.Spec.Hash, out var done))
                        {
                            display.Note($"{cell.Spec}: finished earlier, kept");
                            cells.Add(done!);
                            continue;
                        }
                        var outcome = display.Run(cell.Spec.ToString(), p => BenchmarkGrid.Run(cell, setting, transformed, request.OutputDirectory, p, cancel));
                        run.Save(outcome.Result, outcome.ArtifactFiles);
                        cells.Add(outcome.Result);
                    }
                }
            }
            var continual = request.Continual is null ? [] : RunContinual(request, request.Continual, continualTasks, run, skippedFiles.Count, cells, display, cancel);

            var csv = Path.Combine(request.OutputDirectory, "results.csv");
            ResultsCsv.Write(cells, csv);
            var report = HtmlReport.Write(Path.Combine(request.OutputDirectory, "report"), run.Store);
            run.Finished();
            return new BenchmarkOutcome(cells, continual, skippedFiles, csv, run.Store.Location, report);
        }
        catch (Exception e)
        {
            run.Ended(e);
            throw;
        }
    }

    /// <summary>
    /// Where a cell's gradient training keeps its checkpoint: beside the results, named by the cell's specification, so
    /// running the same command again after a kill resumes the training (the finished training deletes it).
    /// </summary>
    public static ICheckpointStore Checkpoints(string outputDirectory, CellSpec cell) =>
        new CheckpointFile(Path.Combine(outputDirectory, "checkpoints", cell.Hash + ".ckpt"));

    /// <summary>
    /// Saves (again on every run, never looked up: a later Vigil may run the pair) and notes the row of a model that cannot
    /// run a cell's setting.
    /// </summary>
    private static CellResult RecordNotApplicable(CellSpec spec, BackboneChoice backbone, string reason, RecordedRun run, IWorkDisplay display)
    {
        display.Note($"{spec}: {reason}");
        var result = CellResult.NotApplicableCell(spec, backbone.Weights.Kind == WeightSourceKind.Random, reason);
        run.Save(result, new Dictionary<string, byte[]>());
        return result;
    }

    /// <summary>The categories to run: all of the dataset's, or the requested ones (which must all exist in it).</summary>
    public static IReadOnlyList<string> Categories(IDataset dataset, IReadOnlyList<string> requested)
    {
        if (requested.Count == 0) return dataset.Categories;
        var unknown = requested.Where(n => !dataset.Categories.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new VigilInputException(
                $"Unknown categor{(unknown.Count == 1 ? "y" : "ies")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} in dataset '{dataset.Name}'. Known: {string.Join(", ", dataset.Categories)}.");
        return requested;
    }

    /// <summary>
    /// Per seed and model, one detector learns the run's categories in order (see <see cref="ContinualRunner"/>); kept when
    /// stored earlier. A model that cannot learn task after task gets a "not applicable" row in <paramref name="notApplicable"/>.
    /// </summary>
    private static List<ContinualResult> RunContinual(BenchmarkRequest request, ContinualSetting continual,
        Dictionary<int, List<(string Dataset, string Category, DatasetSplit Split)>> tasksBySeed, RecordedRun run, int skippedFiles,
        List<CellResult> notApplicable, IWorkDisplay display, CancellationToken cancel)
    {
        var results = new List<ContinualResult>();
        foreach (var (seed, available) in tasksBySeed)
        {
            var tasks = continual.Select(available);
            if (tasks.Count < 2) throw new VigilInputException($"The continual setting needs at least two tasks; this run has {tasks.Count}. Add categories or datasets.");
            foreach (var model in request.Models)
            {
                cancel.ThrowIfCancellationRequested();
                var backbone = request.Protocol.BackboneFor(model, request.Backbone);
                var spec = CellSpecs.For(model, backbone, string.Join("+", available.Select(a => a.Dataset).Distinct()),
                    string.Join("+", request.Datasets), string.Join("+", tasks.Select(t => t.Task)), ContinualSetting.Name, continual.Spec, seed,
                    request.TrainRatio, skippedFiles, request.Protocol.EvaluationFor(model, request.Evaluation));
                if (SettingSupport.WhyNotContinual(model) is { } reason)
                {
                    notApplicable.Add(RecordNotApplicable(spec, backbone, reason, run, display));
                    continue;
                }
                if (run.Store.TryFindContinual(spec.Hash, out var done))
                {
                    display.Note($"{model.Label} continual seed {seed}: finished earlier, kept");
                    results.Add(done!);
                    continue;
                }
                var result = display.Run($"{model.Label} continual seed {seed}", p => ContinualRunner.Run(spec, model, backbone, tasks, p, cancel));
                run.Save(result);
                results.Add(result);
            }
        }
        return results;
    }
}
