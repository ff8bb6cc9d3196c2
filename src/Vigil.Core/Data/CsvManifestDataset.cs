namespace Vigil.Data;

/// <summary>
/// A dataset listed in a CSV manifest with the header <c>path,label,split[,mask]</c>: paths relative to the CSV's
/// folder (absolute allowed), label normal/good/0 or anomalous/1, split train/test, mask optional (empty for normal
/// images). The split is taken as written; training images must be normal. One category, named after the CSV file.
/// </summary>
public sealed class CsvManifestDataset : IDataset
{
    private const string Header = "path,label,split,mask";
    private static readonly string[] NormalLabels = ["normal", "good", "ok", "0"];
    private static readonly string[] AnomalousLabels = ["anomalous", "anomaly", "abnormal", "defect", "bad", "ko", "1"];

    private readonly CsvTable _table;
    private readonly string _folder;

    public CsvManifestDataset(string csvPath)
    {
        var full = Path.GetFullPath(csvPath);
        _table = CsvTable.Read(full, ["path", "label", "split"], Header);
        _folder = Path.GetDirectoryName(full)!;
        Categories = [Path.GetFileNameWithoutExtension(full)];
    }

    public string Name => "csv";
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var train = new List<Sample>();
        var test = new List<Sample>();
        foreach (var (line, fields) in _table.Rows)
        {
            string Where() => $"Manifest '{_table.Path}' line {line}";
            var relative = _table.Get(fields, "path");
            if (relative.Length == 0) throw new VigilInputException($"{Where()} has an empty path. Give the image path relative to the manifest's folder.");
            var image = Path.GetFullPath(Path.Combine(_folder, relative));
            if (!File.Exists(image))
                throw new VigilInputException($"{Where()} names image '{image}', which does not exist. Paths are relative to the manifest's folder '{_folder}'.");
            var label = _table.Get(fields, "label").ToLowerInvariant();
            bool anomalous = AnomalousLabels.Contains(label);
            if (!anomalous && !NormalLabels.Contains(label))
                throw new VigilInputException($"{Where()}: label '{label}' is not known. Use 'normal' (or good, 0) or 'anomalous' (or 1).");
            var maskText = _table.Get(fields, "mask");
            MaskSource? mask = null;
            if (maskText.Length > 0)
            {
                var maskPath = Path.GetFullPath(Path.Combine(_folder, maskText));
                if (!File.Exists(maskPath))
                    throw new VigilInputException($"{Where()}: mask '{maskPath}' of image '{image}' does not exist. Fix the path (relative to '{_folder}') or leave the mask column empty.");
                if (anomalous) mask = new MaskFile(maskPath); // a normal image has no defective pixel, whatever file is named
            }
            var sample = anomalous
                ? new Sample(image, SampleLabel.Anomalous, "anomalous", Name, category, mask)
                : new Sample(image, SampleLabel.Normal, "good", Name, category);
            switch (_table.Get(fields, "split").ToLowerInvariant())
            {
                case "train" when anomalous:
                    throw new VigilInputException($"{Where()}: anomalous image '{image}' is in the train split; training uses normal images only. Move it to 'test'.");
                case "train": train.Add(sample); break;
                case "test": test.Add(sample); break;
                case var other:
                    throw new VigilInputException($"{Where()}: split '{other}' is neither 'train' nor 'test'. Fix the row.");
            }
        }
        DatasetGuards.RequireNonEmpty(Name, category, _table.Path, train, test, "the manifest must list both 'train' (normal) and 'test' rows");
        return new DatasetSplit(Name, category, train, test);
    }
}
