namespace Vigil.Data;

/// <summary>
/// Magnetic Tile Defects as published (<c>MT_{Free,Blowhole,Break,Crack,Fray,Uneven}/Imgs/*.jpg</c>, each with a
/// same-name .png mask). It ships no split; the IM-IAD protocol of <see cref="SeededSplit"/> applies: normal
/// images (MT_Free) are split train/test by ratio and seed, all defects (type = folder name after "MT_") are tested.
/// </summary>
public sealed class MtdDataset : IDataset
{
    public const string Category = "mtd";
    private const string NormalFolder = "MT_Free";

    private readonly string _root;
    private readonly SplitOptions _split;

    public MtdDataset(string root, SplitOptions? split = null)
    {
        _root = Path.GetFullPath(root);
        _split = split ?? SplitOptions.Default;
        ImageFiles.RequireFolder(_root, "the MTD root holding MT_Free/, MT_Blowhole/, ...", "Check the path; clone or unpack the Magnetic-tile-defect-datasets repository there.");
        ImageFiles.RequireFolder(Path.Combine(_root, NormalFolder, "Imgs"), "the normal MTD images (MT_Free/Imgs/*.jpg)",
            $"'{_root}' is not an MTD root: point at the folder that contains MT_Free/.");
    }

    public string Name => "mtd";
    public IReadOnlyList<string> Categories { get; } = [Category];

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var normal = JpegsIn(NormalFolder).Select(p => new Sample(p, SampleLabel.Normal, "good", Name, Category));
        var anomalous = new List<Sample>();
        foreach (var folder in ImageFiles.SubFolders(_root))
        {
            var folderName = Path.GetFileName(folder);
            if (!folderName.StartsWith("MT_", StringComparison.Ordinal) || folderName == NormalFolder) continue;
            var type = folderName["MT_".Length..];
            foreach (var image in JpegsIn(folderName))
            {
                var mask = Path.ChangeExtension(image, ".png");
                if (!File.Exists(mask))
                    throw new VigilInputException($"Anomalous image '{image}' has no mask: expected '{mask}' beside it. Restore the mask or remove the image.");
                anomalous.Add(new Sample(image, SampleLabel.Anomalous, type, Name, Category, new MaskFile(mask)));
            }
        }
        return SeededSplit.Split(Name, Category, normal, anomalous, _split);
    }

    /// <summary>Only .jpg files are images here: the .png files beside them are their masks.</summary>
    private List<string> JpegsIn(string folderName)
    {
        var imgs = Path.Combine(_root, folderName, "Imgs");
        return Directory.Exists(imgs)
            ? ImageFiles.List(imgs).Where(p => Path.GetExtension(p).Equals(".jpg", StringComparison.OrdinalIgnoreCase)).ToList()
            : [];
    }
}
