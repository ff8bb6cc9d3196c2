using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Weights;
using Xunit.Abstractions;

namespace Vigil.Tests.Benchmark;

/// <summary>
/// One benchmark cell end to end on a tiny synthetic split with PatchCore on the real ONNX MobileNetV2: the cell
/// accounts for every image, its metrics are exactly what the evaluation gives on the detector's predictions, and a
/// pretrained backbone beats random weights (so the benchmark can tell a good detector from a bad one).
/// </summary>
public class CellRunnerTests(CellRunnerTests.PretrainedCell cell, ITestOutputHelper output) : IClassFixture<CellRunnerTests.PretrainedCell>
{
    private static readonly CellSpec Spec = TestSpecs.Cell(backbone: "mobilenetv2_int8_onnx", weights: "pretrained");
    private static readonly ModelSpec Model = DetectorRegistry.Parse("patchcore");

    /// <summary>
    /// The pretrained cell, run once for the tests of this class, and a second fit with the same seed kept for
    /// re-predicting (fits are deterministic, so it is the cell's detector).
    /// </summary>
    public sealed class PretrainedCell : IDisposable
    {
        public PretrainedCell()
        {
            SharedData.RequireDirectory("weights");
            Split = Data.Load();
            var backbone = new BackboneChoice("mobilenetv2_int8_onnx", WeightSource.Pretrained);
            Outcome = CellRunner.Run(Spec, Model, backbone, Split, progress: new Collect<WorkProgress>(Phases));
            Detector = Model.CreateTrainer().Fit(new TrainingData(Split.Train), new TrainingContext(Spec.Seed, backbone));
        }

        public TinySynthetic Data { get; } = new();
        public DatasetSplit Split { get; }
        public IDetector Detector { get; }
        public List<WorkProgress> Phases { get; } = [];
        public CellOutcome Outcome { get; }
        public CellResult Result => Outcome.Result;

        public void Dispose()
        {
            Detector.Dispose();
            Data.Dispose();
        }
    }

    [Fact]
    public void CellAccountsForEveryImageAndItsMetricsMatchAnIndependentEvaluation()
    {
        var (split, detector, result, phases, key) = (cell.Split, cell.Detector, cell.Result, cell.Phases, Spec.Key);
        Assert.Equal(10, split.Train.Count);
        Assert.Equal(6 + 3 * cell.Data.DefectTypeCount, split.Test.Count);

        Assert.Equal(key, result.Key);
        Assert.Equal("mobilenetv2_int8_onnx", result.Backbone);
        Assert.False(result.RandomWeights);
        Assert.Equal((split.Train.Count, split.Test.Count), (result.TrainCount, result.TestCount));
        Assert.Equal(split.Test.Select(s => (s.SourcePath, s.IsAnomalous, s.DefectType)),
            result.Images.Select(i => (i.Path, i.Anomalous, i.DefectType)));
        Assert.All(result.Images, i => Assert.True(float.IsFinite(i.Score)));
        Assert.Equal(new WorkProgress("test", split.Test.Count, split.Test.Count), phases.Last(p => p.Phase == "test"));
        Assert.Equal(new WorkProgress("features", split.Train.Count, split.Train.Count), phases.Last(p => p.Phase == "features"));
        Assert.Contains(phases, p => p.Phase == "coreset");

        // Artifacts: three roles × up to three overlays, each a PNG the index names, and the pixel curves.
        var artifacts = result.Artifacts!;
        Assert.Equal(artifacts.Overlays.Select(o => o.File).Order(), cell.Outcome.ArtifactFiles.Keys.Order());
        Assert.All(cell.Outcome.ArtifactFiles.Values, png => Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4)));
        Assert.NotNull(artifacts.PixelRoc);

        var e = result.Efficiency;
        Assert.True(e.FitSeconds > 0 && e.LatencyMedianMs > 0 && e.LatencyP95Ms >= e.LatencyMedianMs, $"{e}");
        Assert.True(e.PeakWorkingSetBytes > 0);
        Assert.Equal(detector.StateBytes, e.StateBytes);
        Assert.True(e.StateBytes > 0);
        Assert.True(e.ThroughputImagesPerSecond > 0 && new[] { 1, 2, 4, 8 }.Contains(e.ThroughputBatchSize), $"{e}");
        // The saved file holds the state (float32 barely compresses) plus a small JSON header.
        Assert.InRange(e.ModelFileBytes, e.StateBytes / 2, e.StateBytes + 65536);

        // Predict again with the same fitted detector and evaluate independently of the runner.
        var scores = new float[split.Test.Count];
        var maps = new ScoreMap[split.Test.Count];
        var masks = new BinaryMask[split.Test.Count];
        for (int i = 0; i < split.Test.Count; i++)
        {
            var (image, mask) = split.Test[i].Load();
            var prediction = detector.Predict(image);
            (scores[i], maps[i], masks[i]) = (prediction.Score, prediction.Map, mask);
        }
        Assert.Equal(scores, result.Images.Select(i => i.Score).ToArray());
        var expected = Evaluation.Run(scores, split.Test.Select(s => s.IsAnomalous).ToArray(), maps, masks);
        var m = result.Metrics;
        Assert.Equal(expected.ImageAuroc, m.ImageAuroc, 12);
        Assert.Equal(expected.ImageAveragePrecision, m.ImageAveragePrecision, 12);
        Assert.Equal(expected.ImageF1Max, m.ImageF1Max);
        Assert.Equal(expected.PixelAuroc, m.PixelAuroc, 12);
        Assert.Equal(expected.PixelAveragePrecision, m.PixelAveragePrecision, 12);
        Assert.Equal(expected.PixelF1Max, m.PixelF1Max);
        Assert.Equal(expected.AuPro, m.AuPro, 12);
        Assert.Equal(expected.Warnings, m.Warnings);
        Assert.All(new[] { m.ImageAuroc, m.PixelAuroc, m.AuPro }, v => Assert.InRange(v, 0, 1));

        // The image AUROC by its definition (Mann–Whitney: share of (anomalous, normal) pairs ranked right, ties ½).
        var normal = result.Images.Where(i => !i.Anomalous).Select(i => i.Score).ToList();
        var anomalous = result.Images.Where(i => i.Anomalous).Select(i => i.Score).ToList();
        double wins = anomalous.Sum(a => normal.Sum(n => a > n ? 1.0 : a == n ? 0.5 : 0));
        Assert.Equal(wins / (normal.Count * anomalous.Count), m.ImageAuroc, 12);
    }

    [Fact]
    public void BatchedPredictionsEqualOneByOnePredictions()
    {
        var images = cell.Split.Test.Take(3).Select(s => s.LoadImage()).ToList();
        var batched = cell.Detector.Predict(images);
        for (int i = 0; i < images.Count; i++)
        {
            var single = cell.Detector.Predict(images[i]);
            Assert.Equal(single.Score, batched[i].Score, 1e-5f * Math.Abs(single.Score));
            Assert.Equal((single.Map.Height, single.Map.Width), (batched[i].Map.Height, batched[i].Map.Width));
            Assert.All(single.Map.Data.Zip(batched[i].Map.Data), p => Assert.Equal(p.First, p.Second, 1e-4f * (1 + Math.Abs(p.First))));
        }
    }

    [Fact]
    public void PretrainedBackboneBeatsRandomWeights()
    {
        var pretrained = cell.Result;
        var random = CellRunner.Run(Spec, Model, new BackboneChoice("mobilenetv2_int8_onnx", WeightSource.Random(1)), cell.Split, artifacts: false).Result;
        output.WriteLine($"image AUROC pretrained {pretrained.Metrics.ImageAuroc:F3}, random {random.Metrics.ImageAuroc:F3}; " +
                         $"pixel AUROC {pretrained.Metrics.PixelAuroc:F3} vs {random.Metrics.PixelAuroc:F3}");

        Assert.True(random.RandomWeights);
        Assert.False(pretrained.RandomWeights);
        Assert.True(pretrained.Metrics.ImageAuroc >= 0.9, $"pretrained image AUROC {pretrained.Metrics.ImageAuroc:F3}");
        Assert.True(pretrained.Metrics.ImageAuroc > random.Metrics.ImageAuroc + 0.15,
            $"pretrained {pretrained.Metrics.ImageAuroc:F3} vs random {random.Metrics.ImageAuroc:F3}");
    }

    private sealed class Collect<T>(List<T> into) : IProgress<T>
    {
        public void Report(T value) => into.Add(value);
    }
}
