using ScottPlot;
using Vigil.Metrics;
using Vigil.Records;

namespace Vigil.Reporting;

/// <summary>One model in an accuracy-vs-latency plot.</summary>
public sealed record ModelBubble(string Model, double LatencyMs, double ImageAuroc, double PeakMiB);

/// <summary>The report's PNG plots, drawn with ScottPlot.</summary>
internal static class ReportPlots
{
    private const int Width = 520, Height = 400;

    /// <summary>Largest bubble diameter in pixels; the others scale so their AREA is proportional to memory.</summary>
    private const float MaxBubbleDiameter = 70;

    /// <summary>Curves as lines, one per label, over [0, xMax] × [0, 1]; <paramref name="chance"/> adds the diagonal a random scorer gives (ROC).</summary>
    public static void Curves(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<(string Label, Curve Curve)> curves, double xMax = 1, bool chance = false) =>
        Save(CurvePlot(title, xLabel, yLabel, curves, xMax, chance), path);

    internal static Plot CurvePlot(string title, string xLabel, string yLabel, IReadOnlyList<(string Label, Curve Curve)> curves, double xMax = 1, bool chance = false)
    {
        var plot = new Plot();
        if (chance)
        {
            var diagonal = plot.Add.Line(0, 0, 1, 1);
            diagonal.Color = Colors.Gray;
            diagonal.LinePattern = LinePattern.Dashed;
        }
        // Category10's strong colours while they suffice; Category20 (with its light shades) for many categories.
        IPalette palette = curves.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        for (int i = 0; i < curves.Count; i++)
        {
            var line = plot.Add.ScatterLine(curves[i].Curve.X.ToArray(), curves[i].Curve.Y.ToArray(), palette.GetColor(i));
            line.LegendText = curves[i].Label;
            line.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        // A little room beyond [0, xMax] × [0, 1]: a perfect curve runs along x = 0 and y = 1 and must not hide in the frame.
        plot.Axes.SetLimits(-0.02 * xMax, 1.02 * xMax, -0.02, 1.02);
        LabelTicksWithin(plot, xMax: 1, yMax: 1);
        if (curves.Count > 0) plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    /// <summary>
    /// The IM-IAD Figure 2 view: x = latency, y = image AUROC, one labelled bubble per model whose area is
    /// proportional to its peak memory.
    /// </summary>
    public static void Bubbles(string path, string title, IReadOnlyList<ModelBubble> bubbles) => Save(BubblePlot(title, bubbles), path);

    internal static Plot BubblePlot(string title, IReadOnlyList<ModelBubble> bubbles)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double maxMemory = bubbles.Max(b => b.PeakMiB);
        for (int i = 0; i < bubbles.Count; i++)
        {
            var b = bubbles[i];
            float diameter = (float)(MaxBubbleDiameter * Math.Sqrt(b.PeakMiB / maxMemory));
            plot.Add.Marker(b.LatencyMs, b.ImageAuroc, MarkerShape.FilledCircle, Math.Max(diameter, 4), palette.GetColor(i).WithAlpha(0.6));
            var text = plot.Add.Text($"{b.Model}\n{b.PeakMiB:F0} MiB", b.LatencyMs, b.ImageAuroc);
            text.LabelFontSize = 12;
            text.LabelBold = true;
            text.LabelAlignment = Alignment.MiddleCenter;
        }
        double xMax = bubbles.Max(b => b.LatencyMs), yMin = bubbles.Min(b => b.ImageAuroc);
        // Room on both sides: a fast model's bubble and label sit near x = 0 and must not be cut by the axis.
        plot.Axes.SetLimits(-0.15 * xMax - 1e-9, xMax * 1.25 + 1e-9, Math.Max(0, Math.Min(yMin - 0.1, 0.9)), 1.02);
        LabelTicksWithin(plot, xMax: double.PositiveInfinity, yMax: 1);
        plot.Title(title);
        plot.XLabel("latency per image, median (ms)");
        plot.YLabel("image AUROC");
        return plot;
    }

    /// <summary>
    /// Loss curves of gradient trainings over epochs: per label the training loss (solid) and the validation loss
    /// (dashed, same colour) with a marker on the epoch whose weights were kept.
    /// </summary>
    public static void Losses(string path, string title, IReadOnlyList<(string Label, TrainingLog Log)> trainings)
    {
        var plot = new Plot();
        IPalette palette = trainings.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        for (int i = 0; i < trainings.Count; i++)
        {
            var (label, log) = trainings[i];
            var color = palette.GetColor(i);
            double[] epochs = [.. log.Epochs.Select(e => (double)e.Epoch)];
            var train = plot.Add.ScatterLine(epochs, log.Epochs.Select(e => e.Loss).ToArray(), color);
            train.LegendText = $"{label} training";
            train.LineWidth = 2;
            var validated = log.Epochs.Where(e => e.ValidationLoss is not null).ToList();
            if (validated.Count == 0) continue;
            var validation = plot.Add.ScatterLine(validated.Select(e => (double)e.Epoch).ToArray(), validated.Select(e => e.ValidationLoss!.Value).ToArray(), color);
            validation.LegendText = $"{label} validation";
            validation.LinePattern = LinePattern.Dashed;
            validation.LineWidth = 2;
            if (validated.FirstOrDefault(e => e.Epoch == log.KeptEpoch) is { } kept)
                plot.Add.Marker(kept.Epoch, kept.ValidationLoss!.Value, MarkerShape.FilledCircle, 8, color);
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    /// <summary>
    /// The axes reach a little beyond the possible values for margins; ticks there get no label, so no latency below
    /// 0 and no rate or AUROC above 1 is named.
    /// </summary>
    private static void LabelTicksWithin(Plot plot, double xMax, double yMax)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Within(v, xMax) };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Within(v, yMax) };
    }

    private static string Within(double value, double max) =>
        value < -1e-12 || value > max + 1e-12 ? "" : Math.Round(value, 6).ToString("G", System.Globalization.CultureInfo.InvariantCulture);

    private static void Save(Plot plot, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, Width, Height);
    }
}
