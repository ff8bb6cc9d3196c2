namespace Vigil.Data;

/// <summary>
/// A dataset listed in a CSV manifest with the header <c>path,label,split[,mask]</c>: paths relative to the CSV's
/// folder (absolute allowed), label normal/good/0 or anomalous/1, split train/test, mask optional (without one an
/// anomalous image has an image-level label only). The split is taken as written; training images must be normal.
/// One category, named after the CSV file.
/// </summary>
public sealed class CsvManifestDataset : IDataset
{
    private const string Header = "path,label,split,mask";
    private readonly CsvTable _table;

    public CsvManifestDataset(string csvPath)
    {
        var full = Path.GetFullPath(csvPath);
        _table = CsvTable.Read(full, ["path", "label", "split"], Header);
        Categories = [Path.GetFileNameWithoutExtension(full)];
    }

    public string Name => "csv";
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var rows = new ManifestRows(_table, Path.GetDirectoryName(_table.Path)!, "path", RequireMasks: false);
        return rows.ToSplit(Name, category, _table.Rows);
    }
}

/// <summary>Turns manifest rows (image, label, split, mask columns) into samples; shared by the CSV manifest and VisA's split file.</summary>
/// <param name="BaseFolder">The folder relative paths start from.</param>
/// <param name="ImageColumn">The column holding the image path.</param>
/// <param name="RequireMasks">Whether an anomalous row without an existing mask is an error (else it has an image-level label only).</param>
internal sealed record ManifestRows(CsvTable Table, string BaseFolder, string ImageColumn, bool RequireMasks)
{
    private static readonly string[] NormalLabels = ["normal", "good", "ok", "0"];
    private static readonly string[] AnomalousLabels = ["anomalous", "anomaly", "abnormal", "defect", "bad", "ko", "1"];

    public DatasetSplit ToSplit(string dataset, string category, IEnumerable<(int Line, string[] Fields)> rows)
    {
        var train = new List<Sample>();
        var test = new List<Sample>();
        foreach (var (line, fields) in rows)
        {
            string Where() => $"CSV file '{Table.Path}' line {line}";
            var relative = Table.Get(fields, ImageColumn);
            if (relative.Length == 0)
                throw new VigilInputException($"{Where()} has an empty {ImageColumn}. Give the image path relative to '{BaseFolder}'.");
            var image = Path.GetFullPath(Path.Combine(BaseFolder, relative));
            if (!File.Exists(image))
                throw new VigilInputException($"{Where()} names image '{image}', which does not exist. Paths are relative to '{BaseFolder}'.");
            var label = Table.Get(fields, "label").ToLowerInvariant();
            bool anomalous = AnomalousLabels.Contains(label);
            if (!anomalous && !NormalLabels.Contains(label))
                throw new VigilInputException($"{Where()}: label '{label}' is not known. Use 'normal' (or good, 0) or 'anomalous' (or anomaly, 1).");
            var sample = anomalous
                ? new Sample(image, SampleLabel.Anomalous, "anomalous", dataset, category, MaskOf(fields, image, Where))
                : new Sample(image, SampleLabel.Normal, "good", dataset, category); // a normal image has no defective pixel, whatever mask a row names
            switch (Table.Get(fields, "split").ToLowerInvariant())
            {
                case "train" when anomalous:
                    throw new VigilInputException($"{Where()}: anomalous image '{image}' is in the train split; training uses normal images only. Move it to 'test'.");
                case "train": train.Add(sample); break;
                case "test": test.Add(sample); break;
                case var other:
                    throw new VigilInputException($"{Where()}: split '{other}' is neither 'train' nor 'test'. Fix the row.");
            }
        }
        DatasetGuards.RequireNonEmpty(dataset, category, Table.Path, train, test, "the file must list both 'train' (normal) and 'test' rows");
        return new DatasetSplit(dataset, category, train, test);
    }

    private MaskFile? MaskOf(string[] fields, string image, Func<string> where)
    {
        var relative = Table.Get(fields, "mask");
        var path = relative.Length == 0 ? null : Path.GetFullPath(Path.Combine(BaseFolder, relative));
        if (path != null && File.Exists(path)) return new MaskFile(path);
        if (path != null || RequireMasks)
            throw new VigilInputException(
                $"{where()}: anomalous image '{image}' has no mask: expected {(path == null ? "a path in the mask column" : $"'{path}'")}. Add the mask or fix the path (relative to '{BaseFolder}').");
        return null;
    }
}
