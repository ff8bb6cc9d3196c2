using System.Diagnostics;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Engine;

/// <summary>Fits a detector on a split's training images, scores its test images, and evaluates and times it.</summary>
public static class CellRunner
{
    /// <summary>Progress of a cell: the phase ("fit", "test") and (done, total) images in it.</summary>
    public readonly record struct CellProgress(string Phase, int Done, int Total);

    /// <summary>
    /// Runs the cell; with <paramref name="artifactsDirectory"/>, also writes its overlays and pixel curves there
    /// (<see cref="CellArtifacts.Write"/>) and records the folder in <see cref="CellResult.Artifacts"/>.
    /// </summary>
    public static CellResult Run(CellKey key, FeatureEmbeddingDetector detector, DatasetSplit split,
        EvaluationOptions? evaluation = null, IProgress<CellProgress>? progress = null, string? artifactsDirectory = null)
    {
        if (split.Train.Count == 0) throw new VigilInputException($"{key}: the training split is empty.");
        if (split.Test.Count == 0) throw new VigilInputException($"{key}: the test split is empty.");

        var fitClock = Stopwatch.StartNew();
        detector.Fit(split.Train, Forward(progress, "fit"));
        double fitSeconds = fitClock.Elapsed.TotalSeconds;

        var scores = new float[split.Test.Count];
        var labels = new bool[split.Test.Count];
        var maps = new ScoreMap[split.Test.Count];
        var masks = new BinaryMask[split.Test.Count];
        var latenciesMs = new double[split.Test.Count];
        for (int i = 0; i < split.Test.Count; i++)
        {
            var (image, mask) = split.Test[i].Load();
            if (i == 0) detector.Predict(image); // warm-up: first-call allocations and lazy initialisation are not latency
            var clock = Stopwatch.StartNew();
            var prediction = detector.Predict(image);
            latenciesMs[i] = clock.Elapsed.TotalMilliseconds;
            (scores[i], maps[i], masks[i], labels[i]) = (prediction.Score, prediction.Map, mask, split.Test[i].IsAnomalous);
            progress?.Report(new CellProgress("test", i + 1, split.Test.Count));
        }

        var metrics = Evaluation.Run(scores, labels, maps, masks, evaluation, out var pixels);
        if (artifactsDirectory != null)
        {
            artifactsDirectory = Path.GetFullPath(artifactsDirectory);
            CellArtifacts.Write(artifactsDirectory, split.Test, scores, maps, masks, pixels, metrics.ProFprLimit);
        }
        Array.Sort(latenciesMs);
        var efficiency = new Efficiency(fitSeconds, Percentile(latenciesMs, 0.5), Percentile(latenciesMs, 0.95),
            Process.GetCurrentProcess().PeakWorkingSet64, detector.StateBytes);
        var images = split.Test.Select((s, i) => new ImageOutcome(s.SourcePath, s.IsAnomalous, s.DefectType, scores[i])).ToList();
        return new CellResult(key, detector.Extractor.Name, detector.Extractor.IsRandomlyInitialised,
            split.Train.Count, split.Test.Count, metrics, efficiency, images, artifactsDirectory);
    }

    /// <summary>Linear interpolation between closest ranks (numpy's default), on sorted values; the one latency percentile in Vigil.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    private static IProgress<(int Done, int Total)>? Forward(IProgress<CellProgress>? progress, string phase) =>
        progress == null ? null : new PhaseProgress(progress, phase);

    private sealed class PhaseProgress(IProgress<CellProgress> inner, string phase) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => inner.Report(new CellProgress(phase, value.Done, value.Total));
    }
}
