using Vigil.Metrics;
using Vigil.Reporting;

namespace Vigil.Tests.Reporting;

/// <summary>
/// The report's plots keep what matters off the frame and name no impossible values (issue 12, friction 8: the
/// bubble axis started at −5 ms; curves at AUROC 1 hid on the frame).
/// </summary>
public class PlotFrameTests
{
    [Fact]
    public void APerfectCurveLiesInsideTheFrameAndNoImpossibleRateIsLabelled()
    {
        // A perfect ROC curve runs up x = 0 and along y = 1: both lines must lie strictly inside the axes.
        var perfect = new Curve([0, 0, 1], [0, 1, 1]);
        var plot = ReportPlots.CurvePlot("roc", "FPR", "TPR", [("perfect", perfect)], chance: true);
        plot.RenderInMemory(520, 400);
        var limits = plot.Axes.GetLimits();
        Assert.True(limits.Left < 0 && limits.Right > 1 && limits.Bottom < 0 && limits.Top > 1, $"{limits}");
        AssertLabelsWithin(plot.Axes.Bottom, 0, 1);
        AssertLabelsWithin(plot.Axes.Left, 0, 1);
    }

    [Fact]
    public void TheBubblePlotLeavesRoomLeftOfAFastModelButLabelsNoNegativeLatencyNorAurocAboveOne()
    {
        var plot = ReportPlots.BubblePlot("synthetic", [new ModelBubble("fast", 3, 0.97, 100), new ModelBubble("slow", 40, 0.99, 900)]);
        plot.RenderInMemory(520, 400);
        var limits = plot.Axes.GetLimits();
        Assert.True(limits.Left < 0 && limits.Right > 40 && limits.Top > 0.99 && limits.Bottom < 0.97, $"{limits}");
        var latency = AssertLabelsWithin(plot.Axes.Bottom, 0, double.PositiveInfinity);
        Assert.Contains(latency, t => t.Position < 0); // the margin left of 0 has a tick, and it is not labelled
        var auroc = AssertLabelsWithin(plot.Axes.Left, double.NegativeInfinity, 1);
        Assert.Contains(auroc, t => t.Position > 1);   // likewise above AUROC 1
    }

    /// <returns>The axis' major ticks; every labelled one lies in [<paramref name="low"/>, <paramref name="high"/>] and says its position.</returns>
    private static List<ScottPlot.Tick> AssertLabelsWithin(ScottPlot.IAxis axis, double low, double high)
    {
        var ticks = axis.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
        var shown = string.Join(" ", ticks.Select(t => $"{t.Position}:'{t.Label}'"));
        Assert.True(ticks.Count >= 3, shown);
        foreach (var tick in ticks)
        {
            bool possible = tick.Position >= low - 1e-12 && tick.Position <= high + 1e-12;
            Assert.True(possible ? Math.Abs(double.Parse(tick.Label, System.Globalization.CultureInfo.InvariantCulture) - tick.Position) < 1e-9 : tick.Label.Length == 0, shown);
        }
        return ticks;
    }
}
