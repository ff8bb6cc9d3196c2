using System.Text.RegularExpressions;

namespace Vigil.Data;

/// <summary>
/// DAGM 2007 (weakly supervised industrial optical inspection): <c>&lt;root&gt;/Class1..Class10/{Train,Test}/NNNN.PNG</c>
/// with <c>{Train,Test}/Label/Labels.txt</c> (one line per image: index, defect flag 0/1, image file, 0, label file or 0)
/// and the label images <c>Label/NNNN_label.PNG</c>, coarse ellipses around each defect. A class folder may also sit one
/// level deeper (<c>Class1/Class1/Train</c>, as some archives unpack). Image labels come from Labels.txt, masks from
/// the label images it names. Train = the defect-free Train images; test = every Test image. Defective Train images are
/// left out of the split and available from <see cref="LoadTrainingDefects"/>.
/// </summary>
public sealed partial class DagmDataset : IDataset
{
    public const string LabelsFile = "Labels.txt";
    private const string DefectType = "defect";
    private readonly Dictionary<string, string> _classFolders;

    public DagmDataset(string root)
    {
        var full = Path.GetFullPath(root);
        ImageFiles.RequireFolder(full, "the DAGM 2007 root holding Class1/ ... Class10/ (each with Train/ and Test/)", "Check the path; download and unpack the dataset there.");
        _classFolders = [];
        foreach (var folder in ImageFiles.SubFolders(full))
        {
            var nested = Path.Combine(folder, Path.GetFileName(folder));
            var classFolder = HasSplits(folder) ? folder : HasSplits(nested) ? nested : null;
            if (classFolder != null) _classFolders[Path.GetFileName(folder)] = classFolder;
        }
        if (_classFolders.Count == 0)
        {
            string hint = HasSplits(full) ? $"'{full}' looks like a single class; give its parent folder '{Path.GetDirectoryName(full)}' instead."
                : "Point at the folder that holds Class1/, Class2/, ...";
            throw new VigilInputException($"No DAGM class found in '{full}': expected sub-folders Class<N>/Train/ and Class<N>/Test/. {hint}");
        }
        Categories = _classFolders.Keys.OrderBy(NaturalKey, StringComparer.Ordinal).ToList();
    }

    public string Name => "dagm";

    /// <summary>The class folders found, in numeric order (Class1, Class2, ..., Class10).</summary>
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var folder = _classFolders[category];
        var train = ReadPart(Path.Combine(folder, "Train"), category).Where(s => !s.IsAnomalous).ToList();
        var test = ReadPart(Path.Combine(folder, "Test"), category);
        DatasetGuards.RequireNonEmpty(Name, category, folder, train, test,
            "Train/ must hold defect-free images (flag 0 in Train/Label/Labels.txt) and Test/ the test images");
        return new DatasetSplit(Name, category, train, test);
    }

    /// <summary>
    /// The defective images of the category's Train folder, with their labels and masks: left out of the unsupervised
    /// split of <see cref="Load"/>, for supervised use. Testing on the Test folder stays unaffected.
    /// </summary>
    public IReadOnlyList<Sample> LoadTrainingDefects(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        return ReadPart(Path.Combine(_classFolders[category], "Train"), category).Where(s => s.IsAnomalous).ToList();
    }

    private static bool HasSplits(string folder) =>
        Directory.Exists(Path.Combine(folder, "Train")) && Directory.Exists(Path.Combine(folder, "Test"));

    private static string NaturalKey(string name) => Digits().Replace(name, m => m.Value.PadLeft(10, '0'));

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    /// <summary>The images of a Train or Test folder, labelled by its Label/Labels.txt; every image must be listed and every listed file must exist.</summary>
    private List<Sample> ReadPart(string folder, string category)
    {
        var labelFolder = Path.Combine(folder, "Label");
        var labelsPath = Path.Combine(labelFolder, LabelsFile);
        if (!File.Exists(labelsPath))
            throw new VigilInputException($"DAGM labels '{labelsPath}' do not exist: every Train/ and Test/ folder has Label/{LabelsFile} with one line per image. Restore it from the dataset archive.");
        var onDisk = ImageFiles.List(folder);
        var byName = onDisk.ToDictionary(p => Path.GetFileName(p), StringComparer.Ordinal);
        var samples = new List<Sample>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, defective, imageName, labelName) in ReadLabels(labelsPath))
        {
            string where = $"{labelsPath}, line {line}";
            if (!byName.TryGetValue(imageName, out var image))
                throw new VigilInputException($"{where} names '{imageName}', but '{Path.Combine(folder, imageName)}' does not exist. Restore the image or fix the line.");
            if (!listed.Add(imageName))
                throw new VigilInputException($"{where} lists '{imageName}' a second time; each image has one line.");
            if (!defective)
            {
                var stray = labelName ?? Path.GetFileNameWithoutExtension(imageName) + "_label" + Path.GetExtension(imageName);
                if (labelName != null || File.Exists(Path.Combine(labelFolder, stray)))
                    throw new VigilInputException($"{where} flags '{imageName}' defect-free (0), but it has the label image '{Path.Combine(labelFolder, stray)}'. Fix the flag or remove the label image.");
                samples.Add(new Sample(image, SampleLabel.Normal, "good", Name, category));
                continue;
            }
            MaskFile? mask = null;
            if (labelName != null)
            {
                var maskPath = Path.Combine(labelFolder, labelName);
                if (!File.Exists(maskPath))
                    throw new VigilInputException($"{where} names the label image '{maskPath}', which does not exist. Restore it or write 0 for an image-level label.");
                mask = new MaskFile(maskPath);
            }
            samples.Add(new Sample(image, SampleLabel.Anomalous, DefectType, Name, category, mask));
        }
        var unlisted = onDisk.Where(p => !listed.Contains(Path.GetFileName(p))).ToList();
        if (unlisted.Count > 0)
            throw new VigilInputException(
                $"{Counted.Of(unlisted.Count, "image")} in '{folder}' {(unlisted.Count == 1 ? "is" : "are")} not in {labelsPath}, e.g. '{unlisted[0]}'; every image needs a line (index, flag 0/1, file name, 0, label file or 0). Add the lines or remove the images.");
        return samples;
    }

    /// <summary>
    /// Labels.txt: a first line holding one number, then per image "index flag image 0 label" separated by tabs
    /// (or spaces); label is the label image's file name, or 0 (or absent) when there is none.
    /// </summary>
    private static IEnumerable<(int Line, bool Defective, string Image, string? Label)> ReadLabels(string path)
    {
        var lines = File.ReadAllLines(path); // drops a UTF-8 byte-order mark
        for (int i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || (i == 0 && fields.Length == 1)) continue; // blank line, header
            if (fields.Length < 3 || fields[1] is not ("0" or "1"))
                throw new VigilInputException(
                    $"{path}, line {i + 1}: '{lines[i].Trim()}' is not a DAGM label line: expected 'index flag image 0 label' with flag 0 (defect-free) or 1 (defective), e.g. '5\t1\t0005.PNG\t0\t0005_label.PNG'.");
            string? label = fields.Length >= 5 && fields[4] != "0" ? fields[4] : null;
            yield return (i + 1, fields[1] == "1", fields[2], label);
        }
    }
}
