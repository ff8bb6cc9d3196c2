using System.Security.Cryptography;
using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Settings;
using Vigil.Weights;

namespace Vigil.UseCases;

/// <summary>Evaluate a saved model on test images (by default the test split of the data it was trained on).</summary>
public sealed record EvaluateRequest
{
    public required string ModelFile { get; init; }

    /// <summary>The backbone weights the model needs (checked against the hash the file records).</summary>
    public WeightSource Weights { get; init; } = WeightSource.Pretrained;

    /// <summary>Dataset spec to test on; null = the one the model was trained on.</summary>
    public string? Dataset { get; init; }

    /// <summary>Category; null = the one the model was trained on.</summary>
    public string? Category { get; init; }

    /// <summary>The split of datasets without an official one; null parts = the ones the model was trained with.</summary>
    public double? TrainRatio { get; init; }
    public int? SplitSeed { get; init; }

    public bool SkipCorrupt { get; init; }
    public EvaluationOptions Evaluation { get; init; } = new();

    /// <summary>With <see cref="InputProtocol.Reference"/>, pixel metrics in the network's view (as the reference code computes them).</summary>
    public InputProtocol Protocol { get; init; } = InputProtocol.Backbone;
    public required string OutputDirectory { get; init; }
    public string? ResultsStore { get; init; }
    public required RunDescription Run { get; init; }
}

/// <summary>The evaluation, stored as a cell (with the model file and its decisions), and where it was stored.</summary>
public sealed record EvaluateOutcome(CellResult Result, string StoreLocation, IReadOnlyList<SkippedFile> Skipped);

/// <summary>
/// Evaluates a saved model: image/pixel metrics, latency, and how its calibrated threshold does. Refuses test images
/// the model was trained or calibrated on. The result is stored like a benchmark cell.
/// </summary>
public static class EvaluateModel
{
    public static EvaluateOutcome Run(EvaluateRequest request, IWorkDisplay display, CancellationToken cancel = default)
    {
        using var model = DeployedModel.Load(request.ModelFile, BackboneChoice.Resolver(request.Weights));
        var provenance = model.Provenance;
        var spec = request.Dataset ?? provenance?.Dataset
            ?? throw new VigilInputException($"Model file '{request.ModelFile}' does not record its training data; say which data to test on with --data.");
        var split = new SplitOptions(request.TrainRatio ?? provenance?.TrainRatio ?? SplitOptions.DefaultTrainRatio,
            request.SplitSeed ?? provenance?.SplitSeed ?? SplitOptions.DefaultSeed);
        var dataset = Datasets.Open(spec, split, display);
        var category = TrainModel.SingleCategory(dataset, request.Category ?? provenance?.Category);
        var backbone = model.Detector.Backbone;
        OutputChecks.RequireWritableDirectory(request.OutputDirectory, "the evaluation results");
        using var run = RecordedRun.Begin(request.ResultsStore, request.OutputDirectory, request.Run, backbone?.Name ?? "", backbone?.WeightsSha256);
        try
        {
            var check = Datasets.Check(dataset, category, request.SkipCorrupt, display);
            var (clean, skipped) = (check.Clean, check.Skipped);
            // The model's setting may have moved test images into training (supervised, noisy): apply it again, same seed.
            var setting = LearningSettings.Parse(provenance?.Setting ?? LearningSettings.Default.Spec);
            int seed = (int)(provenance?.Seed ?? 0);
            var transformed = setting.Apply(clean, seed);
            // Only the noisy setting's overlap option puts images in both training and test, by design (IM-IAD allows it).
            RequireUnseen(transformed.Test, provenance, setting is NoisyLabels { Overlap: true } ? transformed.Notes.Chosen : []);

            var modelSpec = model.Spec;
            var cellSpec = new CellSpec(modelSpec.Name, modelSpec.OptionsJson.ToJsonString(), modelSpec.Label, dataset.Name, spec, category,
                setting.Name, setting.Spec, seed, split.TrainRatio, backbone?.Name ?? "", backbone?.WeightsSha256 ?? "", backbone?.InputDescription ?? "",
                request.Protocol.EvaluationFor(modelSpec, request.Evaluation), skipped.Count, VigilBuild.Version, FileSha256(request.ModelFile));
            var outcome = display.Run(cellSpec.ToString(), p =>
                CellRunner.Test(cellSpec, model.Detector, transformed.Test, provenance?.FitSeconds ?? double.NaN, progress: p, cancel: cancel));
            var calibration = model.Calibration;
            var result = outcome.Result with
            {
                TrainCount = provenance?.TrainImages.Count ?? 0,
                Notes = check.TinySummary is { } tiny ? [tiny, .. outcome.Result.Notes] : outcome.Result.Notes,
                TestedModel = new TestedModel(Path.GetFullPath(request.ModelFile), calibration?.Rule ?? "none", calibration?.ImageThreshold,
                    calibration is null ? null : ConfusionCounts.At(outcome.Result.Images, calibration.ImageThreshold)),
            };
            run.Save(result, outcome.ArtifactFiles);
            run.Finished();
            return new EvaluateOutcome(result, run.Store.Location, skipped);
        }
        catch (Exception e)
        {
            run.Ended(e);
            throw;
        }
    }

    /// <summary>A test image the model has seen would inflate every metric; refuse rather than report it.</summary>
    private static void RequireUnseen(IReadOnlyList<Sample> test, ModelProvenance? provenance, IReadOnlyList<string> allowedIds)
    {
        if (provenance is null) return;
        var seen = provenance.TrainImages.Concat(provenance.ValidationImages).Select(Path.GetFullPath).ToHashSet();
        var overlap = test.Where(s => seen.Contains(Path.GetFullPath(s.SourcePath)) && !allowedIds.Contains(s.Id)).Select(s => s.SourcePath).ToList();
        if (overlap.Count > 0)
            throw new VigilInputException(
                $"{Counted.Of(overlap.Count, "test image")} {(overlap.Count == 1 ? "was" : "were")} used to train or calibrate this model, e.g. '{overlap[0]}'. Test on the split it was " +
                "trained with (leave out --train-ratio/--split-seed to use the recorded ones) or on other data.");
    }

    private static string FileSha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
