namespace Vigil.Data;

/// <summary>
/// KolektorSDD re-packed for YOLO segmentation: <c>[Datasets/]images/{train,val}/NNN.jpg</c> with labels
/// <c>[Datasets/]labels/{train,val}/NNN.txt</c> (empty = normal, else polygons, rasterised by <see cref="PolygonMask"/>).
/// The re-pack's train/val folders are a supervised split, so they are pooled and the IM-IAD protocol of
/// <see cref="SeededSplit"/> applies: normal images split by ratio and seed, all defective images tested.
/// </summary>
public sealed class KolektorDataset : IDataset
{
    public const string Category = "ksdd";
    private readonly string _root;
    private readonly SplitOptions _split;

    public KolektorDataset(string root, SplitOptions? split = null)
    {
        var full = Path.GetFullPath(root);
        ImageFiles.RequireFolder(full, "the KolektorSDD (YOLO re-pack) root holding Datasets/images/ and Datasets/labels/", "Check the path.");
        _root = Directory.Exists(Path.Combine(full, "images")) ? full : Path.Combine(full, "Datasets");
        ImageFiles.RequireFolder(Path.Combine(_root, "images"), "KolektorSDD images in images/{train,val}/*.jpg",
            $"Point at the folder holding images/ and labels/ (or its parent holding Datasets/).");
        _split = split ?? SplitOptions.Default;
    }

    public string Name => "ksdd";
    public IReadOnlyList<string> Categories { get; } = [Category];

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var normal = new List<Sample>();
        var anomalous = new List<Sample>();
        var images = Path.Combine(_root, "images");
        foreach (var part in ImageFiles.SubFolders(images))
            foreach (var image in ImageFiles.List(part))
            {
                var label = Path.Combine(_root, "labels", Path.GetFileName(part), Path.GetFileNameWithoutExtension(image) + ".txt");
                if (!File.Exists(label))
                    throw new VigilInputException($"Image '{image}' has no label file: expected '{label}' (empty for a normal image). Create it.");
                var mask = PolygonMask.ReadYolo(label);
                if (mask == null) normal.Add(new Sample(image, SampleLabel.Normal, "good", Name, Category));
                else anomalous.Add(new Sample(image, SampleLabel.Anomalous, "defect", Name, Category, mask));
            }
        if (normal.Count + anomalous.Count == 0)
            throw new VigilInputException($"No image found in '{images}': expected images/train/*.jpg and images/val/*.jpg. Check the path.");
        return SeededSplit.Split(Name, Category, normal, anomalous, _split);
    }
}
