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
        var train = new List<Sample>();
        var test = new List<Sample>();
        foreach (var (line, fields) in _table.Rows)
        {
            if (_table.Get(fields, "object") != category) continue;
            string Where() => $"VisA split file '{_table.Path}' line {line}";
            var image = Path.Combine(_root, _table.Get(fields, "image"));
            if (!File.Exists(image))
                throw new VigilInputException($"{Where()} names image '{image}', which does not exist. Restore the image or the VisA download.");
            var label = _table.Get(fields, "label").ToLowerInvariant();
            var split = _table.Get(fields, "split").ToLowerInvariant();
            Sample sample;
            if (label == "normal") sample = new Sample(image, SampleLabel.Normal, "good", Name, category);
            else if (label == "anomaly")
            {
                var mask = _table.Get(fields, "mask");
                var maskPath = Path.Combine(_root, mask);
                if (mask.Length == 0 || !File.Exists(maskPath))
                    throw new VigilInputException($"{Where()}: anomalous image '{image}' has no mask (expected '{(mask.Length == 0 ? "a path in the mask column" : maskPath)}'). Restore the mask.");
                sample = new Sample(image, SampleLabel.Anomalous, "anomaly", Name, category, new MaskFile(maskPath));
            }
            else throw new VigilInputException($"{Where()}: label '{label}' is neither 'normal' nor 'anomaly'. Fix the row.");
            if (split == "train" && sample.IsAnomalous)
                throw new VigilInputException($"{Where()}: anomalous image '{image}' is in the train split; the one-class split trains on normal images only. Use split_csv/1cls.csv.");
            if (split == "train") train.Add(sample);
            else if (split == "test") test.Add(sample);
            else throw new VigilInputException($"{Where()}: split '{split}' is neither 'train' nor 'test'. Fix the row.");
        }
        DatasetGuards.RequireNonEmpty(Name, category, _table.Path, train, test, "the split file must list train and test rows for the object");
        return new DatasetSplit(Name, category, train, test);
    }
}
