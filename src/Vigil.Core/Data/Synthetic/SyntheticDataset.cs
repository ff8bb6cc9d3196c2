using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>One rendered sample: the 8-bit-exact image (values k/255) and its defect mask (empty for normal samples).</summary>
public sealed record SyntheticImage(ImageTensor Image, BinaryMask Mask);

/// <summary>
/// Procedural industrial-inspection dataset with exact defect masks, written in the MVTec AD layout
/// (<c>category/train/good</c>, <c>category/test/&lt;type&gt;</c>, <c>category/ground_truth/&lt;type&gt;/NNN_mask.png</c>).
/// Categories: "wood" (stochastic texture), "nut" (centred object), "tile" (regular texture).
/// Defects: scratches, stains, cracks and missing parts, each drawn as an alpha layer whose footprint is the mask.
/// </summary>
public static class SyntheticDataset
{
    /// <summary>The dataset name samples of this dataset carry.</summary>
    public const string Name = "synthetic";

    /// <summary>The manifest at the root: marks the folder as generated (so it may be overwritten) and records the options.</summary>
    public const string ManifestFileName = "synthetic-manifest.txt";

    private const string LockFileName = ".synthetic.lock";
    private const string ManifestHeader = "vigil synthetic dataset\n";
    private const string GoodFolder = "good";

    /// <summary>Bump when rendering changes, so trees written by an older generator are regenerated.</summary>
    private const int GeneratorVersion = 1;

    /// <summary>All category names, in generation order.</summary>
    public static IReadOnlyList<string> Categories { get; } = SyntheticCategory.All.Select(c => c.Name).ToArray();

    /// <summary>The defect types (test folder names besides "good") of a category.</summary>
    public static IReadOnlyList<string> DefectTypes(string category) => Find(category).DefectTypes;

    /// <summary>
    /// Renders one sample. The normal content depends only on (category, size, seed), so the same seed with
    /// <paramref name="defectType"/> "good" gives the same image without the defect; sensor noise is added after the defect.
    /// </summary>
    public static SyntheticImage Render(string category, int imageSize, ulong seed, string defectType = GoodFolder)
    {
        var kind = Find(category);
        ValidateSize(imageSize);
        if (defectType != GoodFolder && !kind.DefectTypes.Contains(defectType))
            throw new VigilInputException($"Synthetic category '{category}' has no defect type '{defectType}'; use one of: {GoodFolder}, {string.Join(", ", kind.DefectTypes)}.");
        var scene = kind.Render(imageSize, SeededRandom.Stream(seed, "scene"));
        var mask = defectType == GoodFolder
            ? BinaryMask.Empty(imageSize, imageSize)
            : Defects.Paint(scene, defectType, SeededRandom.Stream(seed, "defect:" + defectType));
        return new SyntheticImage(Capture(scene, SeededRandom.Stream(seed, "sensor")), mask);
    }

    /// <summary>
    /// The sample <see cref="Generate"/> writes as image <paramref name="index"/> of
    /// <c>category/split/defectType</c> (split "train" or "test"; defect type "good" for normal images).
    /// </summary>
    public static SyntheticImage RenderFile(SyntheticOptions options, string category, string split, string defectType, int index)
    {
        if (split is not ("train" or "test"))
            throw new VigilInputException($"Synthetic split '{split}' does not exist; use train or test.");
        return Render(category, options.ImageSize, SampleSeed(options.Seed, category, split, defectType, index), defectType);
    }

    /// <summary>
    /// True when <paramref name="root"/> holds a finished generated dataset (with whatever options it was made),
    /// so it can be opened as it is rather than regenerated with the defaults.
    /// </summary>
    public static bool IsComplete(string root)
    {
        var manifestPath = Path.Combine(root, ManifestFileName);
        if (!File.Exists(manifestPath)) return false;
        var manifest = File.ReadAllText(manifestPath);
        return manifest.StartsWith(ManifestHeader, StringComparison.Ordinal) && !manifest.Contains("status=incomplete");
    }

    /// <summary>
    /// Writes the dataset under <paramref name="root"/> and returns the root's full path. When the root already holds
    /// a complete tree generated with the same options, nothing is written. A root holding a tree generated with
    /// other options is cleared and regenerated; a non-empty root that is not a synthetic dataset is refused
    /// (<see cref="VigilInputException"/>), so user data is never overwritten. Safe to call concurrently on one root.
    /// Reports (images written, total) to <paramref name="progress"/>.
    /// </summary>
    public static string Generate(string root, SyntheticOptions? options = null, IProgress<(int Done, int Total)>? progress = null)
    {
        options ??= new SyntheticOptions();
        var categories = Validate(options);
        root = Path.GetFullPath(root);
        if (File.Exists(root))
            throw new VigilInputException($"'{root}' is a file; give a folder (new or empty) for the synthetic dataset.");
        try { Directory.CreateDirectory(root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Cannot create the synthetic dataset folder '{root}' ({e.Message}); choose a writable folder.", e);
        }
        using var _ = AcquireLock(root);

        var manifestPath = Path.Combine(root, ManifestFileName);
        var manifest = Manifest(options, categories);
        var plan = Plan(root, options, categories);
        var existing = File.Exists(manifestPath) ? File.ReadAllText(manifestPath) : null;
        if (existing == manifest && plan.All(p => File.Exists(p.ImagePath) && (p.MaskPath == null || File.Exists(p.MaskPath))))
            return root;
        bool ours = existing != null && existing.StartsWith(ManifestHeader, StringComparison.Ordinal);
        if (!ours && Directory.EnumerateFileSystemEntries(root).Any(e => Path.GetFileName(e) != LockFileName))
            throw new VigilInputException(
                $"'{root}' is not empty and holds no synthetic-dataset {ManifestFileName}, so it will not be overwritten. Choose an empty or new folder.");

        // Claim the folder before clearing it, so an interrupted run is recognised as ours and redone next time.
        File.WriteAllText(manifestPath, ManifestHeader + "status=incomplete\n");
        foreach (var entry in Directory.EnumerateFileSystemEntries(root))
        {
            var name = Path.GetFileName(entry);
            if (name == LockFileName || name == ManifestFileName) continue;
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
        int written = 0;
        Parallel.ForEach(plan, item =>
        {
            var sample = Render(item.Category, options.ImageSize, item.Seed, item.DefectType);
            ImageIO.Write(sample.Image, item.ImagePath);
            if (item.MaskPath != null) ImageIO.WriteMask(sample.Mask, item.MaskPath);
            progress?.Report((Interlocked.Increment(ref written), plan.Count));
        });
        File.WriteAllText(manifestPath, manifest);
        return root;
    }

    /// <summary>One file to write: where, and the sample that goes there.</summary>
    private sealed record PlannedSample(string Category, string DefectType, ulong Seed, string ImagePath, string? MaskPath);

    private static List<PlannedSample> Plan(string root, SyntheticOptions options, IReadOnlyList<string> categories)
    {
        var plan = new List<PlannedSample>();
        foreach (var category in categories)
        {
            var dir = Path.Combine(root, category);
            ulong Seed(string split, string type, int index) => SampleSeed(options.Seed, category, split, type, index);
            for (int i = 0; i < options.TrainGoodCount; i++)
                plan.Add(new(category, GoodFolder, Seed("train", GoodFolder, i), Path.Combine(dir, "train", GoodFolder, $"{i:000}.png"), null));
            for (int i = 0; i < options.TestGoodCount; i++)
                plan.Add(new(category, GoodFolder, Seed("test", GoodFolder, i), Path.Combine(dir, "test", GoodFolder, $"{i:000}.png"), null));
            foreach (var defect in DefectTypes(category))
                for (int i = 0; i < options.TestDefectCount; i++)
                    plan.Add(new(category, defect, Seed("test", defect, i), Path.Combine(dir, "test", defect, $"{i:000}.png"),
                        Path.Combine(dir, "ground_truth", defect, $"{i:000}_mask.png")));
        }
        return plan;
    }

    /// <summary>Depends on (seed, category, split, type, index) only, so changing one count keeps the other images.</summary>
    private static ulong SampleSeed(int seed, string category, string split, string defectType, int index) =>
        SeededRandom.Derive(SeededRandom.Derive((ulong)(uint)seed, $"{category}/{split}/{defectType}"), index);

    private static string Manifest(SyntheticOptions options, IReadOnlyList<string> categories) =>
        $"""
        {ManifestHeader}generator_version={GeneratorVersion}
        image_size={options.ImageSize}
        train_good={options.TrainGoodCount}
        test_good={options.TestGoodCount}
        test_per_defect={options.TestDefectCount}
        seed={options.Seed}
        categories={string.Join(",", categories)}

        """;

    /// <summary>Adds sensor noise to the scene and quantises to 8 bits, exactly as the PNG will store it.</summary>
    private static ImageTensor Capture(Scene scene, SeededRandom sensor)
    {
        const float noiseSigma = 0.008f;
        var image = new ImageTensor(3, scene.Size, scene.Size);
        for (int k = 0; k < image.Data.Length; k++)
        {
            float value = scene.Top[k] + noiseSigma * sensor.FastGaussian();
            image.Data[k] = MathF.Round(Math.Clamp(value, 0, 1) * 255) / 255;
        }
        return image;
    }

    private static FileStream AcquireLock(string root)
    {
        var path = Path.Combine(root, LockFileName);
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(100); }
        }
    }

    private static SyntheticCategory Find(string category) =>
        SyntheticCategory.All.FirstOrDefault(c => c.Name == category)
        ?? throw new VigilInputException($"Unknown synthetic category '{category}'; use one of: {string.Join(", ", Categories)}.");

    private static IReadOnlyList<string> Validate(SyntheticOptions options)
    {
        ValidateSize(options.ImageSize);
        if (options.TrainGoodCount < 1 || options.TestGoodCount < 0 || options.TestDefectCount < 0)
            throw new VigilInputException(
                $"Synthetic counts must be train good ≥ 1, test good ≥ 0, per defect ≥ 0; got {options.TrainGoodCount}, {options.TestGoodCount}, {options.TestDefectCount}.");
        var categories = options.Categories ?? Categories;
        if (categories.Count == 0)
            throw new VigilInputException($"No synthetic category selected; use one or more of: {string.Join(", ", Categories)}.");
        foreach (var c in categories) Find(c);
        if (categories.Distinct().Count() != categories.Count)
            throw new VigilInputException($"Synthetic categories are listed twice: {string.Join(", ", categories)}.");
        return categories;
    }

    private static void ValidateSize(int imageSize)
    {
        if (imageSize is < 32 or > 2048)
            throw new VigilInputException($"Synthetic image size {imageSize} is out of range; use 32 to 2048 pixels.");
    }
}
