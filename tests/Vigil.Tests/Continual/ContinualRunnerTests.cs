using System.Text.Json;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Data;
using Vigil.Tests.Detectors;

namespace Vigil.Tests.Continual;

/// <summary>
/// A three-task continual run (synthetic wood, nut, tile) with PatchCore keeping every patch (coreset ratio 1, so
/// the bank after k tasks is exactly the bank of the union of those tasks): the task × task matrices, their NaN upper
/// triangle, the forgetting measure and the final average checked against independent fits and hand computations.
/// </summary>
public class ContinualRunnerTests(ContinualRunnerTests.ThreeTaskRun run) : IClassFixture<ContinualRunnerTests.ThreeTaskRun>
{
    private static readonly string[] Categories = ["wood", "nut", "tile"];
    private static PatchCoreOptions Options => new() { CoresetRatio = 1, PretrainEmbedDimension = 64, TargetEmbedDimension = 64 };
    private static ModelSpec Model => DetectorRegistry.Parse("patchcore:coreset=1,pretrain_dim=64,target_dim=64");
    private static readonly CellSpec Spec = TestSpecs.Cell(category: string.Join("+", Categories), setting: "continual");

    public sealed class ThreeTaskRun : IDisposable
    {
        private readonly TempTree _temp = new();

        public ThreeTaskRun()
        {
            var options = new SyntheticOptions { ImageSize = 64, TrainGoodCount = 5, TestGoodCount = 3, TestDefectCount = 1, Seed = 9, Categories = Categories };
            var root = SyntheticDataset.Generate(_temp.Path("synthetic"), options);
            var dataset = new MvtecLayoutDataset(root, SyntheticDataset.Name);
            Tasks = Categories.Select(c => (c, dataset.Load(c))).ToList();
            Result = ContinualRunner.Run(Spec, Model, new TestBackbone(), Tasks, new Collect(Progress));
        }

        public IReadOnlyList<(string Task, DatasetSplit Split)> Tasks { get; }
        public List<WorkProgress> Progress { get; } = [];
        public ContinualResult Result { get; }

        public void Dispose() => _temp.Dispose();
    }

    [Fact]
    public void MatricesAreTaskByTaskWithNaNAboveTheDiagonalAndStepsRecordEveryTest()
    {
        var result = run.Result;
        Assert.Equal(Categories, result.Tasks);
        Assert.Equal("patchcore", result.Model);
        Assert.True(result.RandomWeights);
        foreach (var metric in new[] { result.ImageAuroc, result.PixelAuroc, result.AuPro })
        {
            Assert.Equal(3, metric.Matrix.Count);
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(3, metric.Matrix[k].Count);
                for (int j = 0; j < 3; j++)
                    if (j > k) Assert.True(double.IsNaN(metric.Matrix[k][j]), $"{metric.Name}[{k}][{j}]");
                    else Assert.InRange(metric.Matrix[k][j], 0, 1);
            }
        }
        Assert.Equal(3, result.Steps.Count);
        for (int k = 0; k < 3; k++)
        {
            var step = result.Steps[k];
            Assert.Equal(Categories[k], step.Task);
            Assert.Equal(run.Tasks[k].Split.Train.Count, step.TrainCount);
            Assert.Equal(Categories.Take(k + 1), step.Tests.Select(t => t.Task));
            for (int j = 0; j <= k; j++)
            {
                Assert.Equal(step.Tests[j].Metrics.ImageAuroc, result.ImageAuroc.Matrix[k][j]);
                Assert.Equal(step.Tests[j].Metrics.PixelAuroc, result.PixelAuroc.Matrix[k][j]);
                Assert.Equal(step.Tests[j].Metrics.AuPro, result.AuPro.Matrix[k][j]);
                Assert.Equal(run.Tasks[j].Split.Test.Count, step.Tests[j].TestCount);
            }
        }
        // Full bank: the state grows with every task by that task's patches.
        Assert.True(result.Steps[0].StateBytes < result.Steps[1].StateBytes && result.Steps[1].StateBytes < result.Steps[2].StateBytes);
        Assert.Equal(new WorkProgress("test tile", run.Tasks[2].Split.Test.Count, run.Tasks[2].Split.Test.Count), run.Progress[^1]);
        Assert.Equal(Categories.Select(c => $"features {c}"), run.Progress.Where(p => p.Phase.StartsWith("features") && p.Done == p.Total).Select(p => p.Phase));
        Assert.Equal(6, run.Progress.Count(p => p.Phase.StartsWith("test ") && p.Done == p.Total)); // 1 + 2 + 3 tests
    }

    [Fact]
    public void ForgettingAndFinalAverageFollowFromTheMatrixByHand()
    {
        foreach (var metric in new[] { run.Result.ImageAuroc, run.Result.PixelAuroc, run.Result.AuPro })
        {
            var m = metric.Matrix;
            // f_j = max over earlier rows l in [j, 1] of m[l][j] − m[2][j], for j = 0, 1.
            double f0 = Math.Max(m[0][0], m[1][0]) - m[2][0];
            double f1 = m[1][1] - m[2][1];
            Assert.NotNull(metric.Forgetting);
            Assert.Equal(2, metric.Forgetting!.AfterTask);
            Assert.Equal([f0, f1], metric.Forgetting.PerTask);
            Assert.Equal((f0 + f1) / 2, metric.Forgetting.Mean, 12);
            Assert.Equal((m[2][0] + m[2][1] + m[2][2]) / 3, metric.FinalAverage, 12);
        }
    }

    [Fact]
    public void EachRowEqualsAFreshModelFittedOnTheTasksLearnedSoFar()
    {
        // With the full bank, learning tasks 0..k one by one gives the bank of their union: a one-shot fit on the
        // union, tested with an independent prediction loop, must give the same metrics.
        for (int k = 0; k < 3; k += 2)
        {
            using var fresh = new PatchCoreDetector(new RandomConvFeatureExtractor(), Options);
            fresh.Fit(run.Tasks.Take(k + 1).SelectMany(t => t.Split.Train).ToList());
            for (int j = 0; j <= k; j++)
            {
                var test = run.Tasks[j].Split.Test;
                var predictions = test.Select(s => s.Load()).Select(l => (Prediction: fresh.Predict(l.Image), l.Mask)).ToList();
                var expected = Evaluation.Run(predictions.Select(p => p.Prediction.Score).ToArray(), test.Select(s => s.IsAnomalous).ToArray(),
                    predictions.Select(p => p.Prediction.Map).ToArray(), predictions.Select(p => p.Mask).ToArray());
                Assert.Equal(expected.ImageAuroc, run.Result.ImageAuroc.Matrix[k][j], 6);
                Assert.Equal(expected.PixelAuroc, run.Result.PixelAuroc.Matrix[k][j], 6);
                Assert.Equal(expected.AuPro, run.Result.AuPro.Matrix[k][j], 6);
            }
        }
    }

    [Fact]
    public void ResultRoundTripsThroughJsonWithItsNaNs()
    {
        var json = JsonSerializer.Serialize(run.Result, RecordJson.Indented);
        var back = JsonSerializer.Deserialize<ContinualResult>(json, RecordJson.Indented)!;
        Assert.Contains("NaN", json);
        Assert.Equal(run.Result.Tasks, back.Tasks);
        for (int k = 0; k < 3; k++) Assert.Equal(run.Result.PixelAuroc.Matrix[k], back.PixelAuroc.Matrix[k]);
        Assert.Equal(run.Result.ImageAuroc.Forgetting!.PerTask, back.ImageAuroc.Forgetting!.PerTask);
        Assert.Equal(run.Result.Steps[2].Tests[1].Metrics.AuPro, back.Steps[2].Tests[1].Metrics.AuPro);
    }

    [Fact]
    public void OneTaskHasNoForgettingAndBadTaskListsAreInputErrors()
    {
        var one = ContinualRunner.Run(Spec, Model, new TestBackbone(), run.Tasks.Take(1).ToList());
        Assert.Null(one.ImageAuroc.Forgetting);
        Assert.Equal(one.ImageAuroc.Matrix[0][0], one.ImageAuroc.FinalAverage);

        var duplicate = Assert.Throws<VigilInputException>(() => ContinualRunner.Run(Spec, Model, new TestBackbone(), [run.Tasks[0], run.Tasks[0]]));
        Assert.Contains("distinct", duplicate.Message);
        var empty = Assert.Throws<VigilInputException>(() => ContinualRunner.Run(Spec, Model, new TestBackbone(),
            [("nut", new DatasetSplit(SyntheticDataset.Name, "nut", [], run.Tasks[1].Split.Test))]));
        Assert.Contains("'nut'", empty.Message);
    }

    private sealed class Collect(List<WorkProgress> into) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => into.Add(value);
    }
}
