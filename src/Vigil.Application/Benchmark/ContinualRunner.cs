using System.Diagnostics;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Registry;

namespace Vigil.Benchmark;

/// <summary>
/// The IM-IAD continual setting: a sequence of tasks (categories) learned one after another by the same detector
/// (<see cref="IContinualTrainer.FitMore"/>); after each task the detector is tested on the test split of every
/// task seen so far, as open-iad does, giving a task × task matrix per metric and its forgetting measure.
/// </summary>
public static class ContinualRunner
{
    /// <summary>
    /// Runs the tasks in order with one detector of <paramref name="model"/>, which must declare
    /// <see cref="DetectorCapabilities.Continual"/>. Task names must be distinct; every task needs training and test
    /// images. Progress phases are "fit &lt;task&gt;" and "test &lt;task&gt;".
    /// </summary>
    public static ContinualResult Run(CellSpec spec, ModelSpec model, IBackboneProvider backbone, IReadOnlyList<(string Task, DatasetSplit Split)> tasks,
        IProgress<WorkProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (model.CreateTrainer() is not IContinualTrainer trainer || !model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.Continual))
            throw new VigilInputException(
                $"Model '{model.Label}' cannot learn task after task (continual setting). Models that can: {string.Join(", ", DetectorRegistry.All.Where(m => m.Info.Capabilities.HasFlag(DetectorCapabilities.Continual)).Select(m => m.Info.Name))}.");
        if (tasks.Count == 0) throw new VigilInputException("The continual setting needs at least one task; give a list of categories.");
        if (tasks.Select(t => t.Task).Distinct().Count() != tasks.Count)
            throw new VigilInputException($"Continual tasks must be distinct; got {string.Join(", ", tasks.Select(t => t.Task))}.");
        foreach (var (task, split) in tasks)
        {
            if (split.Train.Count == 0) throw new VigilInputException($"Continual task '{task}': the training split is empty.");
            if (split.Test.Count == 0) throw new VigilInputException($"Continual task '{task}': the test split is empty.");
        }

        var total = Stopwatch.StartNew();
        int n = tasks.Count;
        var metrics = new[] { new double[n, n], new double[n, n], new double[n, n] };
        foreach (var m in metrics)
            for (int k = 0; k < n; k++)
                for (int j = k + 1; j < n; j++) m[k, j] = double.NaN;

        var steps = new List<ContinualStep>();
        IDetector? detector = null;
        try
        {
            for (int k = 0; k < n; k++)
            {
                var (task, split) = tasks[k];
                var fitClock = Stopwatch.StartNew();
                var (data, _) = CellRunner.TrainingDataFor(model, split.Train);
                var fitProgress = WorkProgress.Map(progress, p => p with { Phase = $"{p.Phase} {task}" });
                var next = trainer.FitMore(detector, data, new TrainingContext(spec.Seed, backbone, fitProgress, cancel));
                if (!ReferenceEquals(next, detector)) detector?.Dispose();
                detector = next;
                double fitSeconds = fitClock.Elapsed.TotalSeconds;

                var tests = new List<ContinualTest>();
                for (int j = 0; j <= k; j++)
                {
                    var testClock = Stopwatch.StartNew();
                    using var scored = CellRunner.Score(detector, tasks[j].Split.Test, thumbnails: false,
                        WorkProgress.ForPhase(progress, $"test {tasks[j].Task}"), cancel, spec.Evaluation.Resolution);
                    var result = scored.Evaluate(spec.Evaluation);
                    tests.Add(new ContinualTest(tasks[j].Task, tasks[j].Split.Test.Count, testClock.Elapsed.TotalSeconds, result));
                    (metrics[0][k, j], metrics[1][k, j], metrics[2][k, j]) = (result.ImageAuroc, result.PixelAuroc, result.AuPro);
                }
                steps.Add(new ContinualStep(task, split.Train.Count, fitSeconds, detector.StateBytes, tests));
            }
            return new ContinualResult(spec, detector!.Backbone?.IsRandom == true, tasks.Select(t => t.Task).ToArray(), steps,
                ContinualMetric.From("image_auroc", metrics[0]), ContinualMetric.From("pixel_auroc", metrics[1]),
                ContinualMetric.From("au_pro", metrics[2]), total.Elapsed.TotalSeconds);
        }
        finally
        {
            detector?.Dispose();
        }
    }
}
