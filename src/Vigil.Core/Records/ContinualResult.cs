using System.Text.Json.Serialization;
using Vigil.Metrics;

namespace Vigil.Records;

/// <summary>
/// What a continual run produced: one model trained task after task, tested after each task on every task seen so
/// far. JSON-serialisable with <see cref="RecordJson"/> (NaN entries included).
/// </summary>
/// <param name="Spec">The run's identity: a cell spec whose category is the task sequence ("a+b+c") and setting "continual".</param>
/// <param name="Tasks">Task names in training order; matrix rows and columns follow it.</param>
/// <param name="Steps">One per task learned: its fit and the tests that followed it.</param>
/// <param name="TotalSeconds">Wall time of the whole run.</param>
public sealed record ContinualResult(
    CellSpec Spec,
    bool RandomWeights,
    IReadOnlyList<string> Tasks,
    IReadOnlyList<ContinualStep> Steps,
    ContinualMetric ImageAuroc,
    ContinualMetric PixelAuroc,
    ContinualMetric AuPro,
    double TotalSeconds)
{
    [JsonIgnore]
    public string Model => Spec.ModelLabel;

    [JsonIgnore]
    public string Backbone => Spec.Backbone;
}

/// <summary>Learning one task, then testing on every task seen so far (in training order).</summary>
/// <param name="StateBytes">Bytes of the detector's fitted state after this task (memory bank or statistics).</param>
public sealed record ContinualStep(string Task, int TrainCount, double FitSeconds, long StateBytes, IReadOnlyList<ContinualTest> Tests);

/// <summary>One test of a step: the task tested and all its metrics.</summary>
public sealed record ContinualTest(string Task, int TestCount, double TestSeconds, EvaluationResult Metrics);

/// <summary>One metric over a continual run.</summary>
/// <param name="Name">"image_auroc", "pixel_auroc" or "au_pro".</param>
/// <param name="Matrix">
/// Matrix[k][j] = the metric on task j after learning tasks 0…k; NaN above the diagonal (task j not learned yet)
/// and where the metric is undefined for the task's data.
/// </param>
/// <param name="FinalAverage">Mean over all tasks after learning the last one (the last row); NaN when any entry is NaN.</param>
/// <param name="Forgetting">
/// <see cref="ForgettingMeasure"/> after the last task; null with a single task or when an entry it needs is NaN.
/// </param>
public sealed record ContinualMetric(string Name, IReadOnlyList<IReadOnlyList<double>> Matrix, double FinalAverage, ForgettingResult? Forgetting)
{
    /// <summary>Builds the metric from the lower-triangular matrix (NaN above the diagonal).</summary>
    public static ContinualMetric From(string name, double[,] matrix)
    {
        int tasks = matrix.GetLength(0);
        var rows = Enumerable.Range(0, tasks).Select(k => (IReadOnlyList<double>)Enumerable.Range(0, tasks).Select(j => matrix[k, j]).ToArray()).ToArray();
        bool defined = Enumerable.Range(0, tasks).All(k => Enumerable.Range(0, k + 1).All(j => double.IsFinite(matrix[k, j])));
        return new ContinualMetric(name, rows, rows[^1].Average(), tasks > 1 && defined ? ForgettingMeasure.Compute(matrix) : null);
    }
}
