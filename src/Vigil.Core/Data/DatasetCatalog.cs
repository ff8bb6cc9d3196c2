using Vigil.Data.Synthetic;

namespace Vigil.Data;

/// <summary>
/// Opens a dataset from a spec "name[:path]" (e.g. <c>mvtec:/data/mvtec_anomaly_detection</c>, <c>mtd</c>,
/// <c>csv:/data/mine/list.csv</c>).
/// </summary>
public static class DatasetCatalog
{
    /// <summary>
    /// How to open one dataset kind: the path after the colon (null when none was given), the split options, and where
    /// to report the progress of preparing it (generating the synthetic dataset on first use).
    /// </summary>
    public delegate IDataset Opener(string? path, SplitOptions split, IProgress<(int Done, int Total)>? preparation);

    /// <summary>One dataset kind: its name, how the spec looks, and how to open it.</summary>
    public sealed record Entry(string Name, string Usage, Opener Open);

    private static readonly IReadOnlyList<Entry> Entries =
    [
        new("mvtec", "mvtec:<root>  MVTec AD (one folder per category)", (p, _, _) => new MvtecLayoutDataset(Need("mvtec", p), "mvtec")),
        new("mpdd", "mpdd:<root>  MPDD (MVTec AD layout)", (p, _, _) => new MvtecLayoutDataset(Need("mpdd", p), "mpdd")),
        new("btad", "btad:<root>  BTAD (categories 01, 02, 03)", (p, _, _) => new MvtecLayoutDataset(Need("btad", p), "btad")),
        new("mvtec3d", "mvtec3d:<root>  MVTec 3D-AD, RGB images", (p, _, _) => new MvtecLayoutDataset(Need("mvtec3d", p), "mvtec3d")),
        new("visa", "visa:<root>  VisA (reads split_csv/1cls.csv, or a VisA converted to the MVTec AD layout)", (p, _, _) => OpenVisa(Need("visa", p))),
        new("loco", "loco:<root>  MVTec LOCO AD (logical + structural anomalies, per-defect masks, validation split)", (p, _, _) => new LocoDataset(Need("loco", p))),
        new("dagm", "dagm:<root>  DAGM 2007 (Class1..Class10, Labels.txt, coarse ellipse masks)", (p, _, _) => new DagmDataset(Need("dagm", p))),
        new("mtd", "mtd[:<root>]  Magnetic Tile Defects (default: shared/data/mtd)", (p, s, _) => new MtdDataset(p ?? Shared("mtd"), s)),
        new("ksdd", "ksdd[:<root>]  KolektorSDD, YOLO re-pack (default: shared/data/ksdd)", (p, s, _) => new KolektorDataset(p ?? Shared("ksdd"), s)),
        new("folder", "folder:<root>  your images in normal/, abnormal/[<type>/], optional masks/", (p, s, _) => new FolderDataset(Need("folder", p), s)),
        new("csv", "csv:<file.csv>  a manifest with header path,label,split[,mask]", (p, _, _) => new CsvManifestDataset(Need("csv", p))),
        new(SyntheticDataset.Name, "synthetic[:<root>]  generated textures/objects with exact defect masks (default: generated in the cache folder)",
            (p, _, preparation) => new MvtecLayoutDataset(OpenOrGenerateSynthetic(p ?? DefaultSyntheticRoot, preparation), SyntheticDataset.Name)),
    ];

    /// <summary>The known dataset kinds, in the order they are listed to users.</summary>
    public static IReadOnlyList<Entry> Known => Entries;

    /// <summary>
    /// Opens the dataset <paramref name="spec"/> names; <paramref name="preparation"/> receives the progress of any
    /// preparation it needs first (see <see cref="PreparationNeeded"/>).
    /// </summary>
    public static IDataset Open(string spec, SplitOptions? split = null, IProgress<(int Done, int Total)>? preparation = null)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new VigilInputException($"No dataset given. Use one of:\n{UsageList()}");
        int colon = spec.IndexOf(':');
        var name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var path = colon < 0 ? null : spec[(colon + 1)..].Trim();
        if (path is { Length: 0 }) path = null;
        var entry = Entries.FirstOrDefault(e => e.Name == name);
        if (entry == null)
            throw new VigilInputException($"Unknown dataset '{name}' in '{spec}'. Known datasets:\n{UsageList()}");
        return entry.Open(path, split ?? SplitOptions.Default, preparation);
    }

    /// <summary>
    /// What opening <paramref name="spec"/> must do first, for people (e.g. generating the synthetic dataset on first
    /// use), or null when it opens at once.
    /// </summary>
    public static string? PreparationNeeded(string spec)
    {
        int colon = spec.IndexOf(':');
        var name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var path = colon < 0 || spec[(colon + 1)..].Trim().Length == 0 ? DefaultSyntheticRoot : spec[(colon + 1)..].Trim();
        return name == SyntheticDataset.Name && !SyntheticDataset.IsComplete(path)
            ? $"generating the synthetic dataset in {Path.GetFullPath(path)} (first use)"
            : null;
    }

    private static string DefaultSyntheticRoot => Path.Combine(VigilPaths.CacheRoot, SyntheticDataset.Name);

    private static string UsageList() => string.Join("\n", Known.Select(e => "  " + e.Usage));

    private static string Need(string name, string? path) =>
        path ?? throw new VigilInputException($"Dataset '{name}' needs a path: write '{name}:/path/to/{name}'.");

    private static string Shared(string name) =>
        SharedFolder.Find("data", name) ?? throw new VigilInputException(
            $"Dataset '{name}' was given without a path and shared/data/{name} was not found (looked in $VIGIL_SHARED and in the ancestors of the current and program folders). Write '{name}:/path/to/{name}' or set VIGIL_SHARED.");

    /// <summary>A finished generated tree is used as it is (it may have non-default options); otherwise the default one is generated.</summary>
    private static string OpenOrGenerateSynthetic(string root, IProgress<(int Done, int Total)>? progress) =>
        SyntheticDataset.IsComplete(root) ? root : SyntheticDataset.Generate(root, progress: progress);

    private static IDataset OpenVisa(string root) =>
        File.Exists(Path.Combine(root, VisaCsvDataset.SplitFile)) ? new VisaCsvDataset(root) : new MvtecLayoutDataset(root, "visa");
}
