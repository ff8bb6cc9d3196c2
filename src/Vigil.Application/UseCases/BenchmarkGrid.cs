using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Records;
using Vigil.Settings;

namespace Vigil.UseCases;

/// <summary>
/// One (dataset, seed, category) of a grid: its checked split, the corrupt files left out of it, and the dataset
/// check's summary of tiny images when there are any (they are used; every cell of the category says so).
/// </summary>
public sealed record GridCategory(string DatasetSpec, string Dataset, int Seed, string Category, DatasetSplit Clean, IReadOnlyList<SkippedFile> Skipped,
    string? TinySummary);

/// <summary>A cell of a grid before it runs: its identity, the model and backbone it runs, and its category.</summary>
public sealed record GridCell(CellSpec Spec, ModelSpec Model, BackboneChoice Backbone, GridCategory Category);

/// <summary>
/// The cells of a benchmark grid, in the order a run visits them, with the <see cref="CellSpec"/> of each: what a
/// single-machine run computes and what the distributed queue enqueues, so both see the same cells and hashes.
/// </summary>
public static class BenchmarkGrid
{
    /// <summary>
    /// Checks a request before anything is written: models and datasets named, at least one model able to run one of the
    /// settings asked for (the pairs that cannot run become "not applicable" rows: <see cref="SettingSupport"/>), known
    /// categories, the output writable.
    /// </summary>
    public static void Check(BenchmarkRequest request, IWorkDisplay display)
    {
        if (request.Models.Count == 0) throw new VigilInputException("No model to benchmark; name at least one with --models.");
        if (request.Datasets.Count == 0) throw new VigilInputException("No dataset to benchmark on; name at least one with --datasets.");
        var reasons = request.Models.SelectMany(model => request.Settings.Select(setting => SettingSupport.WhyNot(model, setting))
            .Concat(request.Continual is null ? [] : [SettingSupport.WhyNotContinual(model)])).ToList();
        if (reasons.All(why => why is not null))
            throw new VigilInputException($"Nothing in this grid can run: {string.Join("; ", reasons.Distinct())}. Add a model or setting that can, or leave these out.");
        foreach (var spec in request.Datasets)
            RunBenchmark.Categories(Datasets.Open(spec, new SplitOptions(request.TrainRatio), display), request.Categories);
        OutputChecks.RequireWritableDirectory(request.OutputDirectory, "the benchmark results");
    }

    /// <summary>Every (dataset, seed, category) of the grid, its split checked (corrupt files fail it, or are left out with <see cref="BenchmarkRequest.SkipCorrupt"/>).</summary>
    public static IEnumerable<GridCategory> Categories(BenchmarkRequest request, IWorkDisplay display)
    {
        foreach (var spec in request.Datasets)
            foreach (int seed in request.Seeds)
            {
                var dataset = Datasets.Open(spec, new SplitOptions(request.TrainRatio, seed), display);
                foreach (var category in RunBenchmark.Categories(dataset, request.Categories))
                {
                    var check = Datasets.Check(dataset, category, request.SkipCorrupt, display);
                    yield return new GridCategory(spec, dataset.Name, seed, category, check.Clean, check.Skipped, check.TinySummary);
                }
            }
    }

    /// <summary>The cells of one category under one setting: one per model, each with the backbone the protocol gives it.</summary>
    public static IEnumerable<GridCell> Cells(BenchmarkRequest request, GridCategory category, LearningSetting setting) =>
        request.Models.Select(model =>
        {
            var backbone = request.Protocol.BackboneFor(model, request.Backbone);
            var spec = CellSpecs.For(model, backbone, category.Dataset, category.DatasetSpec, category.Category, setting.Name, setting.Spec,
                category.Seed, request.TrainRatio, category.Skipped.Count, request.Protocol.EvaluationFor(model, request.Evaluation));
            return new GridCell(spec, model, backbone, category);
        });

    /// <summary>Every cell of the grid (not the continual runs), the splits checked on the way.</summary>
    public static IEnumerable<GridCell> AllCells(BenchmarkRequest request, IWorkDisplay display) =>
        Categories(request, display).SelectMany(category => request.Settings.SelectMany(setting => Cells(request, category, setting)));

    /// <summary>Runs a cell on its category's split transformed by the setting (fit, test, evaluate, time); the setting's and the data check's notes go with the result.</summary>
    public static CellOutcome Run(GridCell cell, LearningSetting setting, SettingSplit transformed, string outputDirectory,
        IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        var outcome = CellRunner.Run(cell.Spec, cell.Model, cell.Backbone, transformed.Split, progress: progress, cancel: cancel,
            checkpoints: RunBenchmark.Checkpoints(outputDirectory, cell.Spec));
        string[] dataNotes = [.. setting is Unsupervised ? [] : new[] { transformed.Notes.Summary }, .. cell.Category.TinySummary is { } tiny ? [tiny] : Array.Empty<string>()];
        return dataNotes.Length == 0 ? outcome : outcome with { Result = outcome.Result with { Notes = [.. dataNotes, .. outcome.Result.Notes] } };
    }
}
