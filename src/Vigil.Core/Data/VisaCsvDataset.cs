namespace Vigil.Data;

/// <summary>
/// VisA as downloaded: images under <c>&lt;root&gt;/&lt;object&gt;/Data/</c> and the official one-class split in
/// <c>&lt;root&gt;/split_csv/1cls.csv</c> (columns object, split, label, image, mask; label "normal" or "anomaly";
/// paths relative to the root). Reading the CSV directly needs no conversion step.
/// </summary>
public sealed class VisaCsvDataset : IDataset
{
    public const string SplitFile = "split_csv/1cls.csv";
    private const string Header = "object,split,label,image,mask";

    private readonly string _root;
    private readonly CsvTable _table;

    public VisaCsvDataset(string root)
    {
        _root = Path.GetFullPath(root);
        ImageFiles.RequireFolder(_root, "the VisA root holding split_csv/ and one folder per object", "Check the path; unpack VisA there.");
        var csv = Path.Combine(_root, SplitFile);
        if (!File.Exists(csv))
            throw new VigilInputException($"VisA split file '{csv}' does not exist: the VisA download ships it as {SplitFile}. Point at the VisA root folder, or, for a VisA already converted to the MVTec AD layout, give that folder (visa_pytorch/).");
        _table = CsvTable.Read(csv, ["object", "split", "label", "image", "mask"], Header);
        Categories = _table.Rows.Select(r => _table.Get(r.Fields, "object")).Where(o => o.Length > 0)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (Categories.Count == 0)
            throw new VigilInputException($"VisA split file '{csv}' lists no image. Restore it from the VisA download.");
    }

    public string Name => "visa";
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var rows = new ManifestRows(_table, _root, "image", RequireMasks: true);
        return rows.ToSplit(Name, category, _table.Rows.Where(r => _table.Get(r.Fields, "object") == category));
    }
}
