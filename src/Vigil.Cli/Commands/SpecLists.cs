using Vigil.Data;

namespace Vigil.Cli.Commands;

/// <summary>
/// Lists of specs given as repeated options and/or comma-separated values. A comma separates two specs only where the
/// text after it starts a new spec, so commas inside one spec survive: model options
/// (<c>patchcore:coreset=0.01,layers=layer2+layer3,padim</c>) and dataset paths (<c>folder:/data/a,b,mtd</c>). A value
/// that as a whole is a dataset spec whose path exists is one spec, so even <c>folder:/data/x,mtd</c> (a folder named
/// "x,mtd") can be given: as its own option value (repeat -d for more).
/// </summary>
internal static class SpecLists
{
    public static IReadOnlyList<string> Models(IEnumerable<string>? values) =>
        Split(values, piece => piece.IndexOf('=') is var eq && (eq < 0 || (piece.IndexOf(':') is var colon && colon >= 0 && colon < eq)));

    public static IReadOnlyList<string> Datasets(IEnumerable<string>? values) =>
        Split(values, piece => DatasetCatalog.Known.Any(k => piece.Equals(k.Name, StringComparison.OrdinalIgnoreCase)
                                                             || piece.StartsWith(k.Name + ":", StringComparison.OrdinalIgnoreCase)),
            whole: value => value.IndexOf(':') is > 0 and var colon && Path.Exists(value[(colon + 1)..]));

    private static List<string> Split(IEnumerable<string>? values, Func<string, bool> startsSpec, Func<string, bool>? whole = null)
    {
        var specs = new List<string>();
        foreach (var value in values ?? [])
        {
            if (whole?.Invoke(value.Trim()) == true)
            {
                specs.Add(value.Trim());
                continue;
            }
            bool first = true;
            foreach (var piece in value.Split(','))
            {
                var trimmed = piece.Trim();
                if (trimmed.Length == 0) continue;
                if (!first && !startsSpec(trimmed) && specs.Count > 0) specs[^1] += "," + piece;
                else if (trimmed.Length > 0) specs.Add(trimmed);
                first = false;
            }
        }
        return specs.Select(s => s.Trim()).ToList();
    }
}
