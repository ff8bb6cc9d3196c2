using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Data;

/// <summary>
/// The ground truth of one MVTec LOCO anomalous test image: a folder of channel PNGs (<c>000.png</c>, <c>001.png</c>, …,
/// one per defect, each holding 0 and its defect's pixel value), read with the category's defects_config.json.
/// As a <see cref="MaskSource"/> it gives the union of the channels (pixel metrics); <see cref="LoadGroundTruth"/>
/// gives the channels themselves (sPRO).
/// </summary>
public sealed record LocoMask(string Folder, LocoDefectsConfig Config) : MaskSource
{
    /// <summary>Every channel with its defect entry; a pixel value the config does not list is a <see cref="VigilInputException"/> naming the PNG.</summary>
    public LocoGroundTruth LoadGroundTruth() => Config.ReadGroundTruth(Folder);

    public override BinaryMask Load(int imageHeight, int imageWidth)
    {
        var truth = LoadGroundTruth();
        if (truth.Height != imageHeight || truth.Width != imageWidth)
            throw new VigilInputException(
                $"Ground truth '{Folder}' is {truth.Width}x{truth.Height} but its image is {imageWidth}x{imageHeight}: a mask must have its image's size. Fix or re-export the masks.");
        var union = new BinaryMask(imageHeight, imageWidth);
        foreach (var channel in truth.Channels)
            for (int i = 0; i < union.Data.Length; i++) union.Data[i] |= channel.Mask.Data[i];
        return union;
    }
}

/// <summary>
/// MVTec LOCO AD: <c>&lt;root&gt;/&lt;category&gt;/{train/good, validation/good, test/{good, logical_anomalies,
/// structural_anomalies}}</c>, ground truth in <c>ground_truth/&lt;type&gt;/&lt;image stem&gt;/000.png, 001.png, …</c>
/// (one PNG per defect) and the defect entries in <c>&lt;category&gt;/defects_config.json</c> (or one at the root).
/// Anomalous samples get their folder name as defect type and a <see cref="LocoMask"/>; validation/good becomes
/// <see cref="DatasetSplit.Validation"/>. <see cref="Evaluate"/> runs the official evaluation on a scored test set.
/// </summary>
public sealed class LocoDataset : IDataset
{
    public const string LogicalType = "logical_anomalies";
    public const string StructuralType = "structural_anomalies";
    public const string ConfigFile = "defects_config.json";
    private static readonly string[] AnomalyTypes = [LogicalType, StructuralType];

    private readonly string _root;

    public LocoDataset(string root)
    {
        _root = Path.GetFullPath(root);
        ImageFiles.RequireFolder(_root, "the MVTec LOCO AD root holding one folder per category (breakfast_box/, juice_bottle/, ...)",
            "Check the path; download and unpack the dataset there.");
        Categories = ImageFiles.SubFolders(_root)
            .Where(d => Directory.Exists(Path.Combine(d, "train")) && Directory.Exists(Path.Combine(d, "test")))
            .Select(Path.GetFileName).OfType<string>().ToList();
        if (Categories.Count == 0)
            throw new VigilInputException(
                $"No category found in '{_root}': expected sub-folders <category>/train/ and <category>/test/ (MVTec LOCO AD layout). Point at the folder holding breakfast_box/, juice_bottle/, ... (a single category folder: give its parent).");
    }

    public string Name => "loco";
    public IReadOnlyList<string> Categories { get; }

    public DatasetSplit Load(string category)
    {
        DatasetGuards.RequireKnownCategory(Name, category, Categories);
        var folder = Path.Combine(_root, category);
        var config = LoadConfig(folder);
        var train = NormalImages(Path.Combine(folder, "train", "good"), category);
        var validation = NormalImages(Path.Combine(folder, "validation", "good"), category);

        var groundTruth = Path.Combine(folder, "ground_truth");
        var test = new List<Sample>();
        foreach (var typeFolder in ImageFiles.SubFolders(Path.Combine(folder, "test")))
        {
            var type = Path.GetFileName(typeFolder);
            if (type == "good")
            {
                test.AddRange(NormalImages(typeFolder, category));
                continue;
            }
            if (!AnomalyTypes.Contains(type))
                throw new VigilInputException($"Test folder '{typeFolder}' is not an MVTec LOCO test folder: expected good, {LogicalType} or {StructuralType}. Rename or remove it.");
            foreach (var image in ImageFiles.List(typeFolder))
            {
                var channels = Path.Combine(groundTruth, type, Path.GetFileNameWithoutExtension(image));
                if (!Directory.Exists(channels))
                    throw new VigilInputException($"Anomalous image '{image}' has no ground-truth folder: expected '{channels}' holding 000.png, 001.png, ... (one per defect). Add it or remove the image.");
                test.Add(new Sample(image, SampleLabel.Anomalous, type, Name, category, new LocoMask(channels, config)));
            }
        }
        RequireEveryGroundTruthHasItsImage(folder, groundTruth);
        DatasetGuards.RequireNonEmpty(Name, category, folder, train, test,
            "train/good/ must hold normal training images and test/ the test images (good/, logical_anomalies/, structural_anomalies/)");
        return new DatasetSplit(Name, category, train, test) { Validation = validation };
    }

    /// <summary>The category's defects_config.json (the official place, read by the official evaluation), else one at the dataset root.</summary>
    private LocoDefectsConfig LoadConfig(string categoryFolder)
    {
        var inCategory = Path.Combine(categoryFolder, ConfigFile);
        var atRoot = Path.Combine(_root, ConfigFile);
        var path = File.Exists(inCategory) ? inCategory : File.Exists(atRoot) ? atRoot
            : throw new VigilInputException($"No {ConfigFile} for category '{Path.GetFileName(categoryFolder)}': looked for '{inCategory}' and '{atRoot}'. MVTec LOCO ships one per category; restore it from the dataset archive.");
        return LocoDefectsConfig.Load(path);
    }

    private List<Sample> NormalImages(string folder, string category) =>
        Directory.Exists(folder) ? ImageFiles.List(folder).Select(p => new Sample(p, SampleLabel.Normal, "good", Name, category)).ToList() : [];

    /// <summary>Every ground-truth folder belongs to an anomalous test image and holds at least one channel PNG (as the official evaluation demands).</summary>
    private static void RequireEveryGroundTruthHasItsImage(string categoryFolder, string groundTruth)
    {
        if (!Directory.Exists(groundTruth)) return;
        foreach (var typeFolder in ImageFiles.SubFolders(groundTruth))
        {
            var type = Path.GetFileName(typeFolder);
            if (!AnomalyTypes.Contains(type))
                throw new VigilInputException($"Ground-truth folder '{typeFolder}' is not an MVTec LOCO anomaly type: expected {LogicalType} or {StructuralType}. Rename or remove it.");
            var stems = Directory.Exists(Path.Combine(categoryFolder, "test", type))
                ? ImageFiles.List(Path.Combine(categoryFolder, "test", type)).Select(p => Path.GetFileNameWithoutExtension(p)).ToHashSet(StringComparer.Ordinal)
                : [];
            foreach (var channels in ImageFiles.SubFolders(typeFolder))
            {
                if (!stems.Contains(Path.GetFileName(channels)))
                    throw new VigilInputException($"Ground-truth folder '{channels}' has no image: expected '{Path.Combine(categoryFolder, "test", type, Path.GetFileName(channels))}.png'. Restore the image or remove the folder.");
                if (Directory.GetFiles(channels, "*.png").Length == 0)
                    throw new VigilInputException($"Ground-truth folder '{channels}' holds no .png channel; each anomalous image needs one PNG per defect (000.png, ...). Restore them from the dataset archive.");
            }
        }
    }

    /// <summary>The LOCO test folder of a sample (from its defect type); a sample of another dataset is a <see cref="VigilInputException"/>.</summary>
    public static LocoImageKind KindOf(Sample sample) => sample.DefectType switch
    {
        "good" when !sample.IsAnomalous => LocoImageKind.Good,
        LogicalType when sample.IsAnomalous => LocoImageKind.Logical,
        StructuralType when sample.IsAnomalous => LocoImageKind.Structural,
        _ => throw new VigilInputException(
            $"Sample '{sample.SourcePath}' ({sample.Label}, defect type '{sample.DefectType}') is not an MVTec LOCO test image: the LOCO evaluation needs good, {LogicalType} or {StructuralType} samples from the loco: dataset."),
    };

    /// <summary>The sample's channels; for a good image, no channel at the image's size (read from the image file).</summary>
    public static LocoGroundTruth GroundTruthOf(Sample sample)
    {
        if (sample.Augmentation != null)
            throw new VigilInputException($"Sample '{sample.Id}' is an augmented variant; LOCO ground truth exists for the images as stored only.");
        if (sample.Mask is LocoMask loco) return loco.LoadGroundTruth();
        if (sample.IsAnomalous || sample.Mask != null)
            throw new VigilInputException($"Sample '{sample.SourcePath}' has no MVTec LOCO ground-truth folder; open the dataset with the loco: spec to evaluate with sPRO.");
        var (height, width) = ImageIO.ReadSize(sample.SourcePath);
        return LocoGroundTruth.Good(height, width);
    }

    /// <summary>
    /// The official MVTec LOCO evaluation of a scored test set (<see cref="LocoEvaluation.Run"/>): one map and one
    /// image score per test sample, in order. Ground truth is read from disk here; maps are resized to it.
    /// </summary>
    public static LocoEvaluationResult Evaluate(IReadOnlyList<Sample> test, IReadOnlyList<ScoreMap> maps, IReadOnlyList<float> imageScores,
        IReadOnlyList<double>? fprLimits = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(imageScores);
        if (maps.Count != test.Count || imageScores.Count != test.Count) // before reading any ground truth
            throw new ArgumentException($"{test.Count} test samples, {maps.Count} maps and {imageScores.Count} scores; give one map and one score per sample.", nameof(maps));
        var kinds = test.Select(KindOf).ToArray();
        var truths = test.Select(GroundTruthOf).ToArray();
        return LocoEvaluation.Run(kinds, truths, maps, imageScores, fprLimits);
    }
}
