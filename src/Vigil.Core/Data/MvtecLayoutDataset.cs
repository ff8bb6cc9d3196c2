namespace Vigil.Data;

/// <summary>
/// Datasets in the MVTec AD folder layout: <c>&lt;root&gt;/&lt;category&gt;/train/good/*</c>,
/// <c>&lt;root&gt;/&lt;category&gt;/test/&lt;type&gt;/*</c> ("good" is normal) and masks in
/// <c>&lt;root&gt;/&lt;category&gt;/ground_truth/&lt;type&gt;/&lt;stem&gt;_mask.png</c>. The same loader reads MPDD,
/// BTAD (normal folder "ok", masks named like their image, .png or .bmp), MVTec 3D-AD's RGB images
/// (<c>&lt;type&gt;/rgb/*.png</c>, masks in <c>&lt;type&gt;/gt/</c>), VisA after conversion and the synthetic generator's output.
/// </summary>
public sealed class MvtecLayoutDataset : IDataset
{
    /// <summary>Folder names of normal images: "good" (MVTec AD, MPDD, 3D-AD, VisA) and "ok" (BTAD).</summary>
    private static readonly string[] NormalTypes = ["good", "ok"];

    private readonly string _root;

    /// <param name="root">The folder holding one sub-folder per category.</param>
    /// <param name="name">The dataset name put on every sample ("mvtec", "mpdd", "btad", "mvtec3d", "visa", ...).</param>
    public MvtecLayoutDataset(string root, string name = "mvtec")
    {
        _root = Path.GetFullPath(root);
        Name = name;
        ImageFiles.RequireFolder(_root, $"the {name} dataset root holding one folder per category (each with train/ and test/)",
            "Check the path; download and unpack the dataset there.");
        Categories = ImageFiles.SubFolders(_root)
            .Where(d => Directory.Exists(Path.Combine(d, "train")) && Directory.Exists(Path.Combine(d, "test")))
            .Select(Path.GetFileName).OfType<string>().ToList();
        if (Categories.Count == 0)
        {
            string hint = Directory.Exists(Path.Combine(_root, "train")) && Directory.Exists(Path.Combine(_root, "test"))
                ? $"'{_root}' looks like a single category; give its parent folder '{Path.GetDirectoryName(_root)}' instead."
                : "Point at the folder that holds the category folders (e.g. mvtec_anomaly_detection/ containing bottle/, cable/, ...).";
            throw new VigilInputException($"No category found in '{_root}': expected sub-folders <category>/train/ and <category>/test/ (MVTec AD layout). {hint}");
        }
    }

    public string Name { get; }
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var folder = Path.Combine(_root, category);
        var train = new List<Sample>();
        foreach (var typeFolder in ImageFiles.SubFolders(Path.Combine(folder, "train")))
            if (IsNormal(typeFolder))
                train.AddRange(ImagesOf(typeFolder).Select(p => new Sample(p, SampleLabel.Normal, "good", Name, category)));

        var test = new List<Sample>();
        foreach (var typeFolder in ImageFiles.SubFolders(Path.Combine(folder, "test")))
        {
            if (IsNormal(typeFolder))
            {
                test.AddRange(ImagesOf(typeFolder).Select(p => new Sample(p, SampleLabel.Normal, "good", Name, category)));
                continue;
            }
            var type = Path.GetFileName(typeFolder);
            var groundTruth = Path.Combine(folder, "ground_truth", type);
            var inTypeFolder = Path.Combine(typeFolder, "gt"); // MVTec 3D-AD keeps masks beside rgb/
            var masks = new[] { new MaskIndex(groundTruth), new MaskIndex(inTypeFolder) };
            foreach (var image in ImagesOf(typeFolder))
            {
                var mask = masks.Select(m => m.Find(image)).FirstOrDefault(m => m != null);
                if (mask == null)
                {
                    var stem = Path.GetFileNameWithoutExtension(image);
                    var expected = Directory.Exists(inTypeFolder) ? Path.Combine(inTypeFolder, stem + ".png") : Path.Combine(groundTruth, stem + "_mask.png");
                    throw new VigilInputException($"Anomalous image '{image}' has no mask: expected '{expected}' (or '{stem}.png'/'.bmp' in '{groundTruth}'). Add the mask or remove the image.");
                }
                test.Add(new Sample(image, SampleLabel.Anomalous, type, Name, category, new MaskFile(mask)));
            }
        }
        DatasetGuards.RequireNonEmpty(Name, category, folder, train, test,
            "train/good/ must hold normal training images and test/ the test images (test/good/ normal, test/<defect type>/ anomalous)");
        return new DatasetSplit(Name, category, train, test);
    }

    private static bool IsNormal(string typeFolder) => NormalTypes.Contains(Path.GetFileName(typeFolder), StringComparer.OrdinalIgnoreCase);

    /// <summary>The images of a type folder, or of its rgb/ sub-folder where MVTec 3D-AD keeps them.</summary>
    private static List<string> ImagesOf(string typeFolder)
    {
        var rgb = Path.Combine(typeFolder, "rgb");
        return ImageFiles.List(Directory.Exists(rgb) ? rgb : typeFolder);
    }
}

/// <summary>Checks and messages every loader shares.</summary>
internal static class DatasetGuards
{
    public static void RequireKnownCategory(string dataset, string category, IReadOnlyList<string> known)
    {
        if (!known.Contains(category, StringComparer.Ordinal))
            throw new VigilInputException($"Dataset '{dataset}' has no category '{category}'. Known categories: {string.Join(", ", known)}.");
    }

    public static void RequireNonEmpty(string dataset, string category, string folder, IReadOnlyList<Sample> train, IReadOnlyList<Sample> test, string expected)
    {
        if (train.Count == 0 || test.Count == 0)
            throw new VigilInputException(
                $"Category '{category}' of dataset '{dataset}' in '{folder}' has {train.Count} training and {test.Count} test images; both must be non-empty: {expected}. Add the missing images.");
    }
}
