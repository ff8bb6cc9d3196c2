using Vigil.Records;

namespace Vigil.Reporting;

/// <summary>
/// One row of a report's metric table: a category's cells (its seeds) averaged, or the mean over the categories.
/// A metric that is NaN in some of the averaged rows (undefined for that data) is averaged over the others and
/// flagged in <see cref="Partial"/>; NaN only when it is undefined everywhere.
/// </summary>
public sealed record MetricRow(
    string Label,
    int Cells,
    double ImageAuroc,
    double ImageAveragePrecision,
    double ImageF1Max,
    double PixelAuroc,
    double AuPro,
    double FitSeconds,
    double LatencyMedianMs,
    double LatencyP95Ms,
    double PeakMiB,
    IReadOnlySet<string> Partial);

/// <summary>The metric table of one (model, dataset, setting): a row per category, and their mean.</summary>
/// <param name="Model">The model's name, with its backbone in brackets when the cells use several backbones.</param>
public sealed record MetricTable(string Model, string Dataset, string Setting, IReadOnlyList<MetricRow> Categories, MetricRow Mean)
{
    /// <summary>
    /// Tables of every (model, dataset, setting) among <paramref name="cells"/>, ordered by dataset, setting, model; categories
    /// in ordinal order. "Not applicable" cells (<see cref="CellResult.NotApplicable"/>) hold no result and are left out.
    /// </summary>
    public static IReadOnlyList<MetricTable> Build(IReadOnlyList<CellResult> cells) =>
        cells.Where(c => c.NotApplicable is null).GroupBy(c => Group(c, cells))
            .OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => g.Key.Setting, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            .Select(g =>
            {
                var rows = g.GroupBy(c => c.Key.Category).OrderBy(c => c.Key, StringComparer.Ordinal)
                    .Select(c => Average(c.Key, c.Select(Row).ToList())).ToList();
                return new MetricTable(g.Key.Model, g.Key.Dataset, g.Key.Setting, rows, Average("mean", rows));
            }).ToList();

    /// <summary>
    /// The table a cell belongs to: results of different backbones are never averaged together, so the model is
    /// labelled with its backbone when <paramref name="all"/> holds more than one.
    /// </summary>
    public static (string Model, string Dataset, string Setting) Group(CellResult cell, IReadOnlyList<CellResult> all) =>
        (all.Any(c => c.Backbone != cell.Backbone) ? $"{cell.Key.Model} ({cell.Backbone})" : cell.Key.Model, cell.Key.Dataset, cell.Key.Setting);

    private const double MiB = 1024 * 1024;

    private static MetricRow Row(CellResult c) => new(c.Key.Category, 1,
        c.Metrics.ImageAuroc, c.Metrics.ImageAveragePrecision, c.Metrics.ImageF1Max.F1, c.Metrics.PixelAuroc, c.Metrics.AuPro,
        c.Efficiency.FitSeconds, c.Efficiency.LatencyMedianMs, c.Efficiency.LatencyP95Ms, c.Efficiency.PeakWorkingSetBytes / MiB,
        new HashSet<string>());

    private static MetricRow Average(string label, IReadOnlyList<MetricRow> rows)
    {
        var partial = new HashSet<string>(rows.SelectMany(r => r.Partial));
        double Mean(string name, Func<MetricRow, double> metric)
        {
            var defined = rows.Select(metric).Where(v => !double.IsNaN(v)).ToList();
            if (defined.Count > 0 && defined.Count < rows.Count) partial.Add(name);
            return defined.Count == 0 ? double.NaN : defined.Average();
        }
        return new MetricRow(label, rows.Sum(r => r.Cells),
            Mean(nameof(MetricRow.ImageAuroc), r => r.ImageAuroc),
            Mean(nameof(MetricRow.ImageAveragePrecision), r => r.ImageAveragePrecision),
            Mean(nameof(MetricRow.ImageF1Max), r => r.ImageF1Max),
            Mean(nameof(MetricRow.PixelAuroc), r => r.PixelAuroc),
            Mean(nameof(MetricRow.AuPro), r => r.AuPro),
            Mean(nameof(MetricRow.FitSeconds), r => r.FitSeconds),
            Mean(nameof(MetricRow.LatencyMedianMs), r => r.LatencyMedianMs),
            Mean(nameof(MetricRow.LatencyP95Ms), r => r.LatencyP95Ms),
            Mean(nameof(MetricRow.PeakMiB), r => r.PeakMiB),
            partial);
    }
}
