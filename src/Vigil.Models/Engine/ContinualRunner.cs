using System.Diagnostics;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Metrics;

namespace Vigil.Engine;

/// <summary>
/// The IM-IAD continual setting: a sequence of tasks (categories) learned one after another by the same detector
/// (<see cref="IContinualDetector.FitMore"/>); after each task the detector is tested on the test split of every
/// task seen so far, as open-iad does, giving a task × task matrix per metric and its forgetting measure.
/// </summary>
public static class ContinualRunner
{
    /// <summary>
    /// Progress of a run: the step (0-based index of the task being learned, of <paramref name="Steps"/>), the
    /// phase ("fit" or "test"), the task being fitted or tested, and (done, total) images in that phase.
    /// </summary>
    public readonly record struct ContinualProgress(int Step, int Steps, string Phase, string Task, int Done, int Total);

    /// <summary>
    /// Runs the tasks in order on an unfitted detector that implements <see cref="IContinualDetector"/>. Task names
    /// must be distinct; every task needs training and test images.
    /// </summary>
    public static ContinualResult Run(FeatureEmbeddingDetector detector, IReadOnlyList<(string Task, DatasetSplit Split)> tasks,
        EvaluationOptions? evaluation = null, IProgress<ContinualProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(tasks);
        if (detector is not IContinualDetector continual)
            throw new VigilInputException($"Model '{detector.Name}' cannot learn task after task (continual setting); choose patchcore, padim or spade.");
        if (detector.IsFitted)
            throw new InvalidOperationException($"{detector.Name}: the continual run starts from an unfitted detector; create a new one.");
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
        for (int k = 0; k < n; k++)
        {
            var (task, split) = tasks[k];
            var fitClock = Stopwatch.StartNew();
            continual.FitMore(split.Train, Forward(progress, k, n, "fit", task));
            double fitSeconds = fitClock.Elapsed.TotalSeconds;

            var tests = new List<ContinualTest>();
            for (int j = 0; j <= k; j++)
            {
                var testClock = Stopwatch.StartNew();
                var result = Test(detector, tasks[j].Split.Test, evaluation, Forward(progress, k, n, "test", tasks[j].Task));
                tests.Add(new ContinualTest(tasks[j].Task, tasks[j].Split.Test.Count, testClock.Elapsed.TotalSeconds, result));
                (metrics[0][k, j], metrics[1][k, j], metrics[2][k, j]) = (result.ImageAuroc, result.PixelAuroc, result.AuPro);
            }
            steps.Add(new ContinualStep(task, split.Train.Count, fitSeconds, detector.StateBytes, tests));
        }
        return new ContinualResult(detector.Name, detector.Extractor.Name, detector.Extractor.IsRandomlyInitialised,
            tasks.Select(t => t.Task).ToArray(), steps,
            ContinualMetric.From("image_auroc", metrics[0]), ContinualMetric.From("pixel_auroc", metrics[1]),
            ContinualMetric.From("au_pro", metrics[2]), total.Elapsed.TotalSeconds);
    }

    /// <summary>Scores every test image and evaluates the predictions.</summary>
    private static EvaluationResult Test(FeatureEmbeddingDetector detector, IReadOnlyList<Sample> test, EvaluationOptions? evaluation,
        IProgress<(int Done, int Total)>? progress)
    {
        var scored = CellRunner.Score(detector, test, progress);
        return Evaluation.Run(scored.Scores, scored.Labels, scored.Maps, scored.Masks, evaluation);
    }

    private static IProgress<(int Done, int Total)>? Forward(IProgress<ContinualProgress>? progress, int step, int steps, string phase, string task) =>
        progress == null ? null : new StepProgress(progress, step, steps, phase, task);

    private sealed class StepProgress(IProgress<ContinualProgress> inner, int step, int steps, string phase, string task) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => inner.Report(new ContinualProgress(step, steps, phase, task, value.Done, value.Total));
    }
}
