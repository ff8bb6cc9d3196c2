using Vigil.Metrics;

namespace Vigil.Tests.Metrics;

public class ForgettingMeasureTests
{
    private static readonly double[,] Scores =
    {
        { 0.90, double.NaN, double.NaN }, // after task 0 (tasks not yet learned are ignored)
        { 0.70, 0.80, double.NaN },
        { 0.80, 0.50, 0.95 },
    };

    [Fact]
    public void BestEarlierScoreMinusCurrentAveragedOverOldTasks()
    {
        var last = ForgettingMeasure.Compute(Scores);
        // Task 0: max(0.9, 0.7) − 0.8 = 0.1; task 1: 0.8 − 0.5 = 0.3.
        Assert.Equal(2, last.AfterTask);
        Assert.Equal(0.1, last.PerTask[0], 12);
        Assert.Equal(0.3, last.PerTask[1], 12);
        Assert.Equal(0.2, last.Mean, 12);
        Assert.Equal(0.2, ForgettingMeasure.AfterTask(Scores, 1).Mean, 12); // 0.9 − 0.7
    }

    [Fact]
    public void ImprovingTasksGiveNegativeForgetting()
    {
        Assert.Equal(-0.1, ForgettingMeasure.Compute(new double[,] { { 0.5, 0 }, { 0.6, 0.7 } }).Mean, 12);
    }

    [Fact]
    public void InvalidMatricesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => ForgettingMeasure.Compute(new double[2, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ForgettingMeasure.Compute(new double[1, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ForgettingMeasure.AfterTask(Scores, 0));
        var e = Assert.Throws<VigilInputException>(() => ForgettingMeasure.Compute(new double[,] { { double.NaN, 0 }, { 0.6, 0.7 } }));
        Assert.Contains("task 0 after learning task 0", e.Message);
    }
}
