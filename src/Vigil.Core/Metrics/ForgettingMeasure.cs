namespace Vigil.Metrics;

/// <summary>Forgetting after learning task k: per old task j &lt; k, and their mean.</summary>
public sealed record ForgettingResult(int AfterTask, double Mean, IReadOnlyList<double> PerTask);

/// <summary>
/// Forgetting measure of continual learning (Chaudhry et al. 2018). Input: scores[k, j] = score on task j after
/// learning task k (row = tasks learned so far, column = tested task; entries above the diagonal are ignored).
/// For old task j &lt; k: f_j = max over l in [j, k−1] of scores[l, j] − scores[k, j]; the result is the mean over j.
/// </summary>
public static class ForgettingMeasure
{
    /// <summary>Forgetting after the last task (the last row).</summary>
    public static ForgettingResult Compute(double[,] scores) =>
        AfterTask(scores ?? throw new ArgumentNullException(nameof(scores)), scores.GetLength(0) - 1);

    public static ForgettingResult AfterTask(double[,] scores, int k)
    {
        ArgumentNullException.ThrowIfNull(scores);
        int tasks = scores.GetLength(0);
        if (scores.GetLength(1) != tasks)
            throw new ArgumentException($"The score matrix is {tasks}x{scores.GetLength(1)}; it must be task x task (row = after learning task k, column = tested task j).", nameof(scores));
        if (k < 1 || k >= tasks)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"Forgetting needs at least one earlier task: k must be in 1..{tasks - 1}.");
        var perTask = new double[k];
        for (int j = 0; j < k; j++)
        {
            double best = double.NegativeInfinity;
            for (int l = j; l <= k; l++)
            {
                double s = scores[l, j];
                if (!double.IsFinite(s))
                    throw new VigilInputException($"Score of task {j} after learning task {l} is {s}; forgetting needs every score on or below the diagonal.");
                if (l < k) best = Math.Max(best, s);
            }
            perTask[j] = best - scores[k, j];
        }
        return new ForgettingResult(k, perTask.Average(), perTask);
    }
}
