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
    /// Fits the detector on the split's training images and tests it (<see cref="Test"/>). Anomalous training images
    /// (supervised settings) are left out, since these detectors learn from normal images only; the result says so.
    /// </summary>
    public static CellResult Run(CellKey key, FeatureEmbeddingDetector detector, DatasetSplit split,
        EvaluationOptions? evaluation = null, IProgress<CellProgress>? progress = null, string? artifactsDirectory = null)
    {
        var notes = new List<string>();
        var train = split.Train.Where(s => !s.IsAnomalous).ToList();
        if (train.Count < split.Train.Count)
            notes.Add($"{detector.Name} cannot use labelled anomalies: trained on the {train.Count} normal of {split.Train.Count} training images.");
        if (train.Count == 0) throw new VigilInputException($"{key}: the training split has no normal image.");
        if (split.Test.Count == 0) throw new VigilInputException($"{key}: the test split is empty.");

        PeakMemory.Reset();
        var fitClock = Stopwatch.StartNew();
        detector.Fit(train, Forward(progress, "fit"));
        var result = Test(key, detector, split.Test, fitClock.Elapsed.TotalSeconds, evaluation, progress, artifactsDirectory);
        return result with { TrainCount = split.Train.Count, Notes = [.. notes, .. result.Notes] };
    }

    /// <summary>
    /// Scores test images with a fitted detector, evaluates the scores and maps (with <paramref name="artifactsDirectory"/>,
    /// also writes overlays and pixel curves there, see <see cref="CellArtifacts.Write"/>), and measures latency (per image after a
    /// warm-up call), throughput (best of a few batch sizes), peak memory and model-file size.
    /// </summary>
    public static CellResult Test(CellKey key, FeatureEmbeddingDetector detector, IReadOnlyList<Sample> test, double fitSeconds,
        EvaluationOptions? evaluation = null, IProgress<CellProgress>? progress = null, string? artifactsDirectory = null)
    {
        if (test.Count == 0) throw new VigilInputException($"{key}: the test split is empty.");
        var (scores, labels, maps, masks, latenciesMs) = Score(detector, test, Forward(progress, "test"));
        var metrics = Evaluation.Run(scores, labels, maps, masks, evaluation, out var pixels);
        if (artifactsDirectory != null)
        {
            artifactsDirectory = Path.GetFullPath(artifactsDirectory);
            CellArtifacts.Write(artifactsDirectory, test, scores, maps, masks, pixels, metrics.ProFprLimit);
        }
        Array.Sort(latenciesMs);
        var (throughput, batchSize) = Throughput(detector, test, progress);
        var efficiency = new Efficiency(fitSeconds, Percentile(latenciesMs, 0.5), Percentile(latenciesMs, 0.95),
            PeakMemory.Peak(), detector.StateBytes, throughput, batchSize, ModelFileBytes(detector));
        var images = test.Select((s, i) => new ImageOutcome(s.SourcePath, s.IsAnomalous, s.DefectType, scores[i])).ToList();
        return new CellResult(key, detector.Extractor.Name, detector.Extractor.IsRandomlyInitialised,
            0, test.Count, metrics, efficiency, images, [], artifactsDirectory);
    }

    /// <summary>One test set's predictions, and each Predict call's latency.</summary>
    internal sealed record ScoredTest(float[] Scores, bool[] Labels, ScoreMap[] Maps, BinaryMask[] Masks, double[] LatenciesMs);

    /// <summary>Predicts every test image once (after one warm-up call: first-call allocations and lazy initialisation are not latency).</summary>
    internal static ScoredTest Score(FeatureEmbeddingDetector detector, IReadOnlyList<Sample> test, IProgress<(int Done, int Total)>? progress)
    {
        var scored = new ScoredTest(new float[test.Count], new bool[test.Count], new ScoreMap[test.Count], new BinaryMask[test.Count], new double[test.Count]);
        for (int i = 0; i < test.Count; i++)
        {
            var (image, mask) = test[i].Load();
            if (i == 0) detector.Predict(image);
            var clock = Stopwatch.StartNew();
            var prediction = detector.Predict(image);
            scored.LatenciesMs[i] = clock.Elapsed.TotalMilliseconds;
            (scored.Scores[i], scored.Maps[i], scored.Masks[i], scored.Labels[i]) = (prediction.Score, prediction.Map, mask, test[i].IsAnomalous);
            progress?.Report((i + 1, test.Count));
        }
        return scored;
    }

    /// <summary>Batch sizes tried for throughput, and how many test images they run over.</summary>
    private static readonly int[] ThroughputBatchSizes = [1, 2, 4, 8];
    private const int ThroughputImages = 16;

    /// <summary>Images per second at the fastest batch size, each timed after one warm-up batch on preloaded images.</summary>
    private static (double ImagesPerSecond, int BatchSize) Throughput(FeatureEmbeddingDetector detector, IReadOnlyList<Sample> test,
        IProgress<CellProgress>? progress)
    {
        var images = test.Take(ThroughputImages).Select(s => s.LoadImage()).ToList();
        var sizes = ThroughputBatchSizes.Where(b => b <= images.Count).ToList();
        (double, int) best = (0, 1);
        for (int k = 0; k < sizes.Count; k++)
        {
            int b = sizes[k];
            detector.PredictBatch(images.Take(b).ToList());
            var clock = Stopwatch.StartNew();
            int done = 0;
            for (; done + b <= images.Count; done += b) detector.PredictBatch(images.GetRange(done, b));
            double rate = done / clock.Elapsed.TotalSeconds;
            if (rate > best.Item1) best = (rate, b);
            progress?.Report(new CellProgress("throughput", k + 1, sizes.Count));
        }
        return best;
    }

    /// <summary>Size of the file <see cref="FeatureEmbeddingDetector.Save"/> writes: what a production line has to deploy.</summary>
    private static long ModelFileBytes(FeatureEmbeddingDetector detector)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-size-{Guid.NewGuid():N}.vgl");
        try
        {
            detector.Save(path);
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
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
