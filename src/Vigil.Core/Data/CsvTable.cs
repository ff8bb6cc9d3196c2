using System.Text;

namespace Vigil.Data;

/// <summary>A small RFC 4180 reader (quoted fields, doubled quotes) for split and manifest files, with column lookup by header name.</summary>
internal sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    private CsvTable(string path, string[] header, List<(int Line, string[] Fields)> rows)
    {
        Path = path;
        _columns = header.Select((h, i) => (h.Trim().ToLowerInvariant(), i))
            .GroupBy(c => c.Item1).ToDictionary(g => g.Key, g => g.First().i);
        Rows = rows;
    }

    public string Path { get; }
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    public static CsvTable Read(string path, string[] required, string expectedHeader)
    {
        if (!File.Exists(path))
            throw new VigilInputException($"CSV file '{path}' does not exist. Check the path.");
        var lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0)
            throw new VigilInputException($"CSV file '{path}' is empty: expected the header '{expectedHeader}' and one row per image.");
        var header = ParseLine(lines[first], path, first + 1);
        var rows = new List<(int, string[])>();
        for (int i = first + 1; i < lines.Length; i++)
            if (lines[i].Trim().Length > 0) rows.Add((i + 1, ParseLine(lines[i], path, i + 1)));
        var table = new CsvTable(path, header, rows);
        var missing = required.Where(c => !table._columns.ContainsKey(c)).ToList();
        if (missing.Count > 0)
            throw new VigilInputException(
                $"CSV file '{path}' header '{lines[first].Trim()}' lacks column(s) {string.Join(", ", missing)}: the first line must be a header like '{expectedHeader}'.");
        return table;
    }

    public bool Has(string column) => _columns.ContainsKey(column);

    /// <summary>The trimmed value of a column in a row; "" when the row is shorter than the header.</summary>
    public string Get(string[] fields, string column) =>
        _columns.TryGetValue(column, out var i) && i < fields.Length ? fields[i].Trim() : "";

    private static string[] ParseLine(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') current.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        if (quoted)
            throw new VigilInputException($"CSV file '{path}' line {lineNumber} has an unclosed quote. Close it (a quote inside a quoted field is written \"\").");
        fields.Add(current.ToString());
        return fields.ToArray();
    }
}
