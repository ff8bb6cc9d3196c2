using System.Diagnostics;
using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.Trained;
using Vigil.Inference;
using Vigil.Settings;
using Vigil.Training;

namespace Vigil.UseCases;

/// <summary>How the threshold and score normalisation are fitted: on normal images held back from training, never on test images.</summary>
/// <param name="ValidationRatio">Fraction of normal training images held back; 0 = none (the model gets scores but no labels).</param>
/// <param name="SyntheticAnomalies">Adds a CutPaste copy of every validation image as an anomaly (needed for an F1 threshold without labelled anomalies).</param>
public sealed record CalibrationRequest(double ValidationRatio = 0.1, ThresholdRule? Rule = null, bool SyntheticAnomalies = false)
{
    public ThresholdRule ThresholdRule => Rule ?? new ThresholdRule.FixedFpr(0.01);

    /// <summary>Fewest validation images a threshold is fitted on: below this a threshold's false-positive rate moves in steps of 20 % or more.</summary>
    public const int MinimumValidationImages = 5;
}

/// <summary>Train one model on one category and save it, calibrated, to one file.</summary>
public sealed record TrainRequest
{
    public required ModelSpec Model { get; init; }
    public required BackboneChoice Backbone { get; init; }

    /// <summary>The dataset spec, e.g. "mtd"; recorded in the model so <c>vigil test</c> finds the data again.</summary>
    public required string Dataset { get; init; }

    /// <summary>The category; may be null when the dataset has one.</summary>
    public string? Category { get; init; }

    public SplitOptions Split { get; init; } = SplitOptions.Default;
    public LearningSetting Setting { get; init; } = LearningSettings.Default;
    public int Seed { get; init; }
    public CalibrationRequest Calibration { get; init; } = new();
    public bool SkipCorrupt { get; init; }

    /// <summary>How images reach the model (its reference code's input, or the backbone's); saved with the model.</summary>
    public InputProtocol Protocol { get; init; } = InputProtocol.Backbone;

    /// <summary>The model file; null = "&lt;model&gt;-&lt;dataset&gt;-&lt;category&gt;.vgl" in the current folder.</summary>
    public string? OutputPath { get; init; }

    /// <summary>The request's full configuration (JSON), kept in the model's provenance.</summary>
    public string Configuration { get; init; } = "{}";

    /// <summary>Continue the interrupted gradient training whose checkpoint lies beside the model file (<see cref="TrainModel.CheckpointPath"/>).</summary>
    public bool Resume { get; init; }
}

/// <summary>What training produced.</summary>
public sealed record TrainOutcome(
    string ModelPath,
    long FileBytes,
    string Dataset,
    string Category,
    int TrainCount,
    int ValidationCount,
    double FitSeconds,
    long StateBytes,
    string StateSummary,
    string Backbone,
    bool RandomWeights,
    ScoreCalibration? Calibration,
    IReadOnlyList<string> Notes,
    IReadOnlyList<SkippedFile> Skipped);

/// <summary>
/// Fits a model on a category's training images, calibrates its threshold and score normalisation on validation
/// images held back from training, and saves everything a production line needs to one model file.
/// </summary>
public static class TrainModel
{
    public static TrainOutcome Run(TrainRequest request, IWorkDisplay display, CancellationToken cancel = default)
    {
        var model = request.Model;
        var dataset = Datasets.Open(request.Dataset, request.Split, display);
        var category = SingleCategory(dataset, request.Category);
        var path = request.OutputPath ?? $"{model.Label}-{dataset.Name}-{category}.vgl".Replace('/', '-').Replace(':', '_');
        OutputChecks.RequireWritableFile(path, "the model file");
        var checkpoint = new CheckpointFile(CheckpointPath(path));
        if (File.Exists(checkpoint.Location) && !request.Resume)
            throw new VigilInputException($"{checkpoint.Location} holds the checkpoint of an interrupted training of this model file: continue it with --resume, or delete it to train from the start.");
        var calibration = request.Calibration;

        var (clean, skipped, _) = Datasets.Check(dataset, category, request.SkipCorrupt, display);
        var transformed = request.Setting.Apply(clean, request.Seed);
        var notes = new List<string>();
        if (request.Setting is not Unsupervised) notes.Add($"setting {request.Setting.Name}: {transformed.Notes.Summary}");

        var (heldOut, validationNormals) = ValidationSplit.Take(transformed.Train, calibration.ValidationRatio, request.Seed,
            calibration.ValidationRatio > 0 ? CalibrationRequest.MinimumValidationImages : 0);
        var (data, _) = CellRunner.TrainingDataFor(model, heldOut);
        // A model that cannot learn from labelled anomalies gets them as validation anomalies: they fit an F1 threshold.
        var labelled = heldOut.Where(s => s.IsAnomalous).ToList();
        bool anomaliesCalibrate = data.Anomalies.Count == 0 && labelled.Count > 0 && validationNormals.Count > 0;
        var validation = anomaliesCalibrate ? [.. validationNormals, .. labelled] : validationNormals;
        if (labelled.Count > 0 && data.Anomalies.Count == 0)
            notes.Add($"{model.Label} cannot learn from labelled anomalies: the {labelled.Count} moved into training {(anomaliesCalibrate ? "calibrate the threshold instead" : "were left out")}.");
        if (validation.Count > 0 && calibration.ThresholdRule is ThresholdRule.F1Optimal && !calibration.SyntheticAnomalies && !validation.Any(s => s.IsAnomalous))
            throw new VigilInputException("An F1-optimal threshold (--threshold f1) needs anomalous validation images: add --synthetic-anomalies (a CutPaste copy of each validation image), or use a fixed false-positive rate (--threshold fpr:0.01).");
        if (validationNormals.Count > 0)
        {
            int byRatio = (int)Math.Round(calibration.ValidationRatio * transformed.Train.Count(s => !s.IsAnomalous && s.Augmentation is null), MidpointRounding.AwayFromZero);
            notes.Add($"threshold fitted on {Counted.Of(validationNormals.Count, "validation normal image")}" +
                      (byRatio < validationNormals.Count ? $" (the minimum; --validation-ratio {calibration.ValidationRatio} alone would hold back {byRatio})" : "") +
                      $": its false-positive rate on them moves in steps of {1.0 / validationNormals.Count:P0}.");
        }

        if (request.Resume && !File.Exists(checkpoint.Location)) notes.Add($"--resume: there was no checkpoint at {checkpoint.Location}; trained from the start.");
        var clock = Stopwatch.StartNew();
        IDetector detector;
        try
        {
            detector = display.Run($"fitting {model.Label} on {dataset.Name}/{category} ({Counted.Of(data.Normal.Count, "image")})",
                p => model.CreateTrainer().Fit(data with { Validation = validationNormals },
                    new TrainingContext(request.Seed, request.Protocol.BackboneFor(model, request.Backbone), p, cancel, checkpoint)));
        }
        catch (OperationCanceledException e) when (File.Exists(checkpoint.Location))
        {
            throw new VigilInterruptedException($"the training is saved in {checkpoint.Location}; run the same command with --resume to continue it.", e, e.CancellationToken);
        }
        using var _ = detector;
        double fitSeconds = clock.Elapsed.TotalSeconds;
        notes.AddRange((detector as ITrainedDetector)?.Training?.Notes ?? []);
        var scoreCalibration = validation.Count == 0 ? null
            : display.Run($"calibrating on {Counted.Of(validation.Count, "validation image")}",
                p => Calibrator.Fit(detector, validation, calibration.ThresholdRule, calibration.SyntheticAnomalies, request.Seed, WorkProgress.ForPhase(p, "calibrate")));
        var provenance = new ModelProvenance(request.Dataset, category, request.Split.TrainRatio, request.Split.Seed, request.Setting.Spec,
            request.Seed, data.Normal.Concat(data.Anomalies).Select(s => s.SourcePath).ToList(), validation.Select(s => s.SourcePath).ToList(),
            VigilBuild.Version, VigilBuild.GitCommit, DateTime.UtcNow, fitSeconds, request.Configuration);
        try { DeployedModel.Write(path, detector, scoreCalibration, provenance); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // checked writable before, so: the disk filled up
        {
            throw new VigilInputException($"Could not write the model file '{Path.GetFullPath(path)}': {e.Message} Free disk space or choose another --out, then train again.", e);
        }

        return new TrainOutcome(Path.GetFullPath(path), new FileInfo(path).Length, dataset.Name, category, data.Normal.Count + data.Anomalies.Count,
            validation.Count, fitSeconds, detector.StateBytes, detector.StateSummary, detector.Backbone?.Name ?? "(its own networks)",
            detector.Backbone?.IsRandom == true, scoreCalibration, notes, skipped);
    }

    /// <summary>Where the training of model file <paramref name="modelPath"/> keeps its checkpoint until the file is written.</summary>
    public static string CheckpointPath(string modelPath) => modelPath + ".ckpt";

    /// <summary>The one category to use: the requested one (validated), or the dataset's only category.</summary>
    public static string SingleCategory(IDataset dataset, string? requested)
    {
        if (requested is { Length: > 0 }) return RunBenchmark.Categories(dataset, [requested]).Single();
        if (dataset.Categories.Count == 1) return dataset.Categories[0];
        throw new VigilInputException($"Dataset '{dataset.Name}' has several categories; choose one with --category: {string.Join(", ", dataset.Categories)}.");
    }
}
