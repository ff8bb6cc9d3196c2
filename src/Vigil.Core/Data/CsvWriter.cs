using System.Globalization;
using System.Text;

namespace Vigil.Data;

/// <summary>Writes RFC 4180 CSV (the form <see cref="CsvTable"/> reads): fields with a comma, quote or line break are quoted.</summary>
public static class CsvWriter
{
    /// <summary>The whole CSV text: header line, then one line per row.</summary>
    public static string Format(IReadOnlyList<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var text = new StringBuilder();
        text.Append(Line(header)).Append('\n');
        foreach (var row in rows) text.Append(Line(row)).Append('\n');
        return text.ToString();
    }

    /// <summary>One CSV line (without its line break).</summary>
    private static string Line(IEnumerable<object?> fields) =>
        string.Join(",", fields.Select(f => Quote(Convert.ToString(f, CultureInfo.InvariantCulture) ?? "")));

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}
