namespace Vigil.Data;

/// <summary>
/// A user's own images: <c>&lt;root&gt;/normal/*</c>, <c>&lt;root&gt;/abnormal/*</c> or
/// <c>&lt;root&gt;/abnormal/&lt;defect type&gt;/*</c>, and optionally masks in <c>&lt;root&gt;/masks/</c> (or
/// <c>masks/&lt;defect type&gt;/</c>) named like their image, any image extension, "_mask" suffix allowed.
/// When masks/ exists every abnormal image needs one. Normal images are split train/test by <see cref="SeededSplit"/>;
/// all abnormal images are tested. One category, named after the root folder.
/// </summary>
public sealed class FolderDataset : IDataset
{
    private readonly string _root;
    private readonly SplitOptions _split;

    public FolderDataset(string root, SplitOptions? split = null)
    {
        _root = Path.GetFullPath(root);
        _split = split ?? SplitOptions.Default;
        ImageFiles.RequireFolder(_root, "a dataset folder holding normal/ and abnormal/", "Check the path.");
        ImageFiles.RequireFolder(Path.Combine(_root, "normal"), "the normal (defect-free) images in normal/",
            $"Create '{Path.Combine(_root, "normal")}' with the good images, and abnormal/ with the defective ones.");
        Categories = [Path.GetFileName(_root.TrimEnd(Path.DirectorySeparatorChar))];
    }

    public string Name => "folder";
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var normalFolder = Path.Combine(_root, "normal");
        var normal = ImageFiles.List(normalFolder).Select(p => new Sample(p, SampleLabel.Normal, "good", Name, category)).ToList();
        if (normal.Count == 0)
            throw new VigilInputException($"Folder '{normalFolder}' holds no image (.png, .jpg, .bmp, .tif): put the normal images there.");

        var abnormalFolder = Path.Combine(_root, "abnormal");
        var masksFolder = Path.Combine(_root, "masks");
        bool hasMasks = Directory.Exists(masksFolder);
        var rootMasks = new MaskIndex(masksFolder);
        var anomalous = new List<Sample>();
        if (Directory.Exists(abnormalFolder))
        {
            var groups = ImageFiles.SubFolders(abnormalFolder).Select(d => (Type: Path.GetFileName(d), Folder: d))
                .Prepend((Type: "abnormal", Folder: abnormalFolder));
            foreach (var (type, folder) in groups)
            {
                var typeMasks = folder == abnormalFolder ? rootMasks : new MaskIndex(Path.Combine(masksFolder, type));
                foreach (var image in ImageFiles.List(folder))
                {
                    MaskSource? mask = null;
                    if (hasMasks)
                    {
                        var path = typeMasks.Find(image) ?? rootMasks.Find(image);
                        if (path == null)
                        {
                            var expected = Path.Combine(folder == abnormalFolder ? masksFolder : Path.Combine(masksFolder, type), Path.GetFileNameWithoutExtension(image) + ".png");
                            throw new VigilInputException($"Abnormal image '{image}' has no mask: expected '{expected}' (any image extension, '_mask' suffix allowed). With a masks/ folder every abnormal image needs a mask; add it, or remove masks/ for image-level labels only.");
                        }
                        mask = new MaskFile(path);
                    }
                    anomalous.Add(new Sample(image, SampleLabel.Anomalous, type, Name, category, mask));
                }
            }
        }
        return SeededSplit.Split(Name, category, normal, anomalous, _split);
    }
}
