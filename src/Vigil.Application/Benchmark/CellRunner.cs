using System.Diagnostics;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.Tiled;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Reporting;
using Vigil.Training;

namespace Vigil.Benchmark;

/// <summary>A cell's result and the artifact files (overlay PNGs) its index names, to be stored together.</summary>
public sealed record CellOutcome(CellResult Result, IReadOnlyDictionary<string, byte[]> ArtifactFiles);

/// <summary>
/// Runs one benchmark cell: fits a model on a split's training images, scores its test images, evaluates and times
/// it. Works for every registered detector through <see cref="IDetectorTrainer"/> and <see cref="IDetector"/>.
/// </summary>
public static class CellRunner
{
    /// <summary>
    /// Fits <paramref name="model"/> on the split's training images (labelled anomalies only for detectors that declare
    /// <see cref="DetectorCapabilities.Supervised"/>; the result notes when they were left out) and tests it (<see cref="Test"/>).
    /// A gradient training keeps its checkpoint in <paramref name="checkpoints"/> and resumes from it.
    /// </summary>
    public static CellOutcome Run(CellSpec spec, ModelSpec model, IBackboneProvider backbone, DatasetSplit split, bool artifacts = true,
        IProgress<WorkProgress>? progress = null, CancellationToken cancel = default, ICheckpointStore? checkpoints = null)
    {
        var (data, notes) = TrainingDataFor(model, split.Train);
        if (data.Normal.Count == 0) throw new VigilInputException($"{spec}: the training split has no normal image.");
        if (split.Test.Count == 0) throw new VigilInputException($"{spec}: the test split is empty.");

        PeakMemory.Reset();
        var fitClock = Stopwatch.StartNew();
        using var detector = model.CreateTrainer().Fit(data, new TrainingContext(spec.Seed, backbone, progress, cancel, checkpoints));
        double fitSeconds = fitClock.Elapsed.TotalSeconds;
        var outcome = Test(spec, detector, split.Test, fitSeconds, artifacts, progress, cancel);
        var trainingNotes = (detector as ITrainedDetector)?.Training?.Notes ?? [];
        return outcome with { Result = outcome.Result with { TrainCount = split.Train.Count, Notes = [.. notes, .. TiledDetector.FitNotes(detector), .. trainingNotes, .. outcome.Result.Notes] } };
    }

    /// <summary>
    /// What a model learns from a training split: its normal images, and its labelled anomalies when the model can use
    /// them (else a note says they were left out).
    /// </summary>
    public static (TrainingData Data, IReadOnlyList<string> Notes) TrainingDataFor(ModelSpec model, IReadOnlyList<Sample> train)
    {
        var normal = train.Where(s => !s.IsAnomalous).ToList();
        var anomalies = train.Where(s => s.IsAnomalous).ToList();
        if (anomalies.Count == 0 || model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.Supervised))
            return (new TrainingData(normal) { Anomalies = anomalies }, []);
        return (new TrainingData(normal), [$"{model.Label} cannot use labelled anomalies: trained on the {normal.Count} normal of {Counted.Of(train.Count, "training image")}."]);
    }

    /// <summary>
    /// Scores test images with a fitted detector (each image decoded once), evaluates the scores and maps, measures
    /// latency (per image after a warm-up call) and throughput, and with <paramref name="artifacts"/> makes the overlays
    /// and pixel curves (<see cref="CellArtifacts"/>).
    /// </summary>
    public static CellOutcome Test(CellSpec spec, IDetector detector, IReadOnlyList<Sample> test, double fitSeconds, bool artifacts = true,
        IProgress<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        if (test.Count == 0) throw new VigilInputException($"{spec}: the test split is empty.");
        using var scored = Score(detector, test, artifacts, WorkProgress.ForPhase(progress, "test"), cancel, spec.Evaluation.Resolution);
        var (metrics, index, files) = EvaluateWithArtifacts(spec, test, scored, artifacts);
        var latencies = scored.LatenciesMs.Order().ToArray();
        var (throughput, batchSize) = Timing.Throughput(scored.ThroughputImages, images => detector.Predict(images),
            WorkProgress.ForPhase(progress, "throughput"), cancel);
        var efficiency = new Efficiency(fitSeconds, Timing.Percentile(latencies, 0.5), Timing.Percentile(latencies, 0.95),
            PeakMemory.Peak(), detector.StateBytes, throughput, batchSize, ModelFileBytes(detector));
        var images = test.Select((s, i) => new ImageOutcome(s.SourcePath, s.IsAnomalous, s.DefectType, scored.Scores[i])).ToList();
        bool random = detector.Backbone?.IsRandom == true;
        return new CellOutcome(new CellResult(spec, random, 0, test.Count, metrics, efficiency, images, [], index)
        {
            Training = (detector as ITrainedDetector)?.Training,
            Loco = scored.Loco,
        }, files);
    }

    /// <summary>The metrics and, with <paramref name="artifacts"/>, the overlays and pixel curves.</summary>
    private static (EvaluationResult Metrics, CellArtifactIndex? Index, IReadOnlyDictionary<string, byte[]> Files) EvaluateWithArtifacts(
        CellSpec spec, IReadOnlyList<Sample> test, ScoredTest scored, bool artifacts)
    {
        var metrics = scored.Evaluate(spec.Evaluation);
        if (!artifacts) return (metrics, null, new Dictionary<string, byte[]>());
        var (index, files) = CellArtifacts.Create(test, scored.Scores, scored.Maps!, scored.Masks!, scored.Thumbnails!, scored.Pixels,
            metrics.ProFprLimit, mapRange: (scored.MapMin, scored.MapMax));
        return (metrics, index, files);
    }

    /// <summary>
    /// Whether the test images are MVTec LOCO's with their per-defect ground truth (then the LOCO evaluation
    /// applies): some anomaly carries a <see cref="LocoMask"/>.
    /// </summary>
    private static bool HasLocoGroundTruth(IReadOnlyList<Sample> test) => test.Any(s => s.Mask is LocoMask);

    /// <summary>
    /// One test set's predictions, each Predict call's latency, and what the cell keeps of the images (see
    /// <see cref="Score"/>). The test pixels are in <see cref="Pixels"/> (sorted runs on disk, deleted by
    /// <see cref="Dispose"/>); <see cref="Maps"/> and <see cref="Masks"/> are kept only at overlay size for the artifacts,
    /// else not at all (null). <see cref="Loco"/> is the MVTec LOCO evaluation on LOCO ground truth (else null).
    /// <see cref="Thumbnails"/> (and the overlay-size maps and masks) are kept only for the images the overlays may
    /// show; the other entries are null.
    /// <see cref="MapMin"/> and <see cref="MapMax"/> are the range of all full-resolution maps (the overlays' colour scale).
    /// </summary>
    public sealed record ScoredTest(float[] Scores, bool[] Labels, ScoreMap[]? Maps, BinaryMask[]? Masks, double[] LatenciesMs,
        ImageTensor[]? Thumbnails, IReadOnlyList<ImageTensor> ThroughputImages, PixelScores Pixels, float MapMin, float MapMax) : IDisposable
    {
        public LocoEvaluationResult? Loco { get; init; }

        /// <summary>Every metric of these predictions, at the resolution the pixels were collected at.</summary>
        public EvaluationResult Evaluate(EvaluationOptions options) => Evaluation.Run(Scores, Labels, Pixels, options);

        public void Dispose() => Pixels.Dispose();
    }

    /// <summary>Test images kept decoded for the throughput measurement (bounds the memory it needs).</summary>
    private const int ThroughputImages = 16;

    /// <summary>
    /// Predicts every test image once (after one warm-up call: first-call allocations and lazy initialisation are not
    /// latency). Each image is decoded once: the first <see cref="ThroughputImages"/> are kept for throughput and, with
    /// <paramref name="thumbnails"/>, a small copy of each (and of its map and mask) for the overlays. Each map and mask
    /// goes at <paramref name="resolution"/> into the pixel metrics' runs on disk as soon as it is made (in the
    /// network's view for <see cref="EvaluationResolution.View"/>), and on LOCO ground truth with its channels into the
    /// sPRO's runs (<see cref="LocoEvaluationBuilder"/>), so the test set's full-resolution maps are not held together.
    /// Dispose the result to delete the runs.
    /// </summary>
    public static ScoredTest Score(IDetector detector, IReadOnlyList<Sample> test, bool thumbnails, IProgress<(int Done, int Total)>? progress,
        CancellationToken cancel = default, EvaluationResolution resolution = EvaluationResolution.GroundTruth)
    {
        var view = resolution == EvaluationResolution.View ? detector.Backbone?.Preprocessing : null;
        var (scores, labels, latencies) = (new float[test.Count], new bool[test.Count], new double[test.Count]);
        var (maps, masks) = thumbnails ? (new ScoreMap[test.Count], new BinaryMask[test.Count]) : (null, null);
        var thumbnailImages = thumbnails ? new ImageTensor[test.Count] : null;
        var throughputImages = new List<ImageTensor>();
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        using var pixels = new PixelScoresBuilder(resolution);
        using var loco = HasLocoGroundTruth(test) ? new LocoEvaluationBuilder() : null;
        for (int i = 0; i < test.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var (image, mask) = test[i].Load();
            if (i == 0) detector.Predict(image);
            Prediction prediction = null!;
            latencies[i] = Timing.Milliseconds(() => prediction = detector.Predict(image));
            (scores[i], labels[i]) = (prediction.Score, test[i].IsAnomalous);
            Evaluation.ThrowIfNormalHasDefects(i, labels[i], mask);
            if (view is not null)
                pixels.Add(prediction.View ?? throw new InvalidOperationException($"{detector.Model} gives no map in the network's view."), view.ApplyToMask(mask));
            else
                pixels.Add(prediction.Map, mask);
            loco?.Add(LocoDataset.KindOf(test[i]), LocoDataset.GroundTruthOf(test[i]), prediction.Map, prediction.Score);
            foreach (float v in prediction.Map.Data) { min = Math.Min(min, v); max = Math.Max(max, v); }
            if (thumbnailImages is not null) thumbnailImages[i] = CellArtifacts.Thumbnail(image);
            if (thumbnailImages is not null)
            {
                (maps![i], masks![i]) = CellArtifacts.Shrink(prediction.Map, mask, thumbnailImages[i]);
                DropOverlayNonCandidates(test, scores, i, thumbnailImages, maps, masks);
            }
            if (i < ThroughputImages) throughputImages.Add(image);
            progress?.Report((i + 1, test.Count));
        }
        return new ScoredTest(scores, labels, maps, masks, latencies, thumbnailImages, throughputImages, pixels.Build(), min, max)
        {
            Loco = loco?.Build(),
        };
    }

    /// <summary>
    /// Forgets the overlay data (thumbnail, overlay-size map and mask) of the images up to <paramref name="last"/> that
    /// the overlays can no longer show: an image not among the overlay picks of the images so far is not among them once
    /// more images come (each role takes the highest or lowest scores, ties in test order). So the cell holds overlay
    /// data for a few images instead of every test image; the dropped entries are null and never read.
    /// </summary>
    private static void DropOverlayNonCandidates(IReadOnlyList<Sample> test, float[] scores, int last, ImageTensor[] thumbnails,
        ScoreMap[] maps, BinaryMask[] masks)
    {
        var picked = CellArtifacts.Pick(test.Take(last + 1).ToArray(), new ArraySegment<float>(scores, 0, last + 1), CellArtifacts.DefaultPerRole)
            .SelectMany(p => p.Indices).ToHashSet();
        for (int j = 0; j <= last; j++)
        {
            if (picked.Contains(j) || thumbnails[j] is null) continue;
            (thumbnails[j], maps[j], masks[j]) = (null!, null!, null!);
        }
    }

    /// <summary>Size of the model file <c>vigil train</c> would save: what a production line has to deploy.</summary>
    private static long ModelFileBytes(IDetector detector)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-size-{Guid.NewGuid():N}.vgl");
        try
        {
            DeployedModel.Write(path, detector, calibration: null, provenance: null);
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
