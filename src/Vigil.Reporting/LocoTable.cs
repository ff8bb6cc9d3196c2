using Vigil.Records;

namespace Vigil.Reporting;

/// <summary>
/// One row of a LOCO table: one kind of anomaly (logical, structural, or their mean as the official tool reports it)
/// of one category, averaged over its cells (seeds), or over the categories. NaN values (a category without that
/// kind of anomaly) are left out of the averages; NaN only when undefined everywhere.
/// </summary>
/// <param name="AucSpro">Normalised AUC-sPRO at each of the table's <see cref="LocoTable.FprLimits"/>, in order.</param>
public sealed record LocoRow(string Category, string Anomalies, int Cells, double ImageAuroc, IReadOnlyList<double> AucSpro);

/// <summary>
/// The MVTec LOCO results of one (model, dataset, setting): per category the official evaluation's logical, structural
/// and mean rows, then the same averaged over the categories. Built from the cells that carry
/// <see cref="CellResult.Loco"/>; tables follow <see cref="MetricTable.Group"/>, so a backbone is never averaged with another.
/// </summary>
public sealed record LocoTable(string Model, string Dataset, string Setting, IReadOnlyList<double> FprLimits, IReadOnlyList<LocoRow> Rows)
{
    public const string MeanCategory = "mean";
    private static readonly string[] Kinds = ["logical", "structural", "mean"];

    /// <summary>Tables of every (model, dataset, setting) with LOCO results, in <see cref="MetricTable.Build"/>'s order.</summary>
    public static IReadOnlyList<LocoTable> Build(IReadOnlyList<CellResult> cells)
    {
        var loco = cells.Where(c => c.Loco is not null).ToList();
        return loco.GroupBy(c => MetricTable.Group(c, cells))
            .OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => g.Key.Setting, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            .Select(g =>
            {
                var limits = g.SelectMany(c => c.Loco!.Mean.AucSpro.Keys).Distinct().Order().ToList();
                var categories = g.GroupBy(c => c.Key.Category).OrderBy(c => c.Key, StringComparer.Ordinal)
                    .Select(c => Kinds.Select(kind => Average(c.Key, kind, c.Select(cell => Row(cell, kind, limits)).ToList(), limits)).ToList())
                    .ToList();
                var rows = categories.SelectMany(c => c).ToList();
                if (categories.Count > 1)
                    rows.AddRange(Kinds.Select((kind, k) => Average(MeanCategory, kind, categories.Select(c => c[k]).ToList(), limits)));
                return new LocoTable(g.Key.Model, g.Key.Dataset, g.Key.Setting, limits, rows);
            }).ToList();
    }

    private static LocoRow Row(CellResult cell, string kind, IReadOnlyList<double> limits)
    {
        var loco = cell.Loco!;
        var scores = kind switch { "logical" => loco.Logical, "structural" => loco.Structural, _ => loco.Mean };
        return new LocoRow(cell.Key.Category, kind, 1, scores.ImageAuroc,
            limits.Select(l => scores.AucSpro.TryGetValue(l, out double v) ? v : double.NaN).ToList());
    }

    private static LocoRow Average(string category, string kind, IReadOnlyList<LocoRow> rows, IReadOnlyList<double> limits) =>
        new(category, kind, rows.Sum(r => r.Cells), Mean(rows.Select(r => r.ImageAuroc)),
            limits.Select((_, l) => Mean(rows.Select(r => r.AucSpro[l]))).ToList());

    private static double Mean(IEnumerable<double> values)
    {
        var defined = values.Where(v => !double.IsNaN(v)).ToList();
        return defined.Count == 0 ? double.NaN : defined.Average();
    }
}
