namespace Vigil.Data;

/// <summary>File conventions every loader shares: which files are images, in which order they are listed.</summary>
public static class ImageFiles
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    /// <summary>An image by extension; dot-files (macOS "._x.png" metadata, editor temp files) are not images.</summary>
    public static bool IsImage(string path) =>
        !Path.GetFileName(path).StartsWith('.') &&
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The images directly inside a folder, in ordinal order so that listings (and the seeded splits built on them) are the same on every file system.</summary>
    public static List<string> List(string folder) =>
        Directory.EnumerateFiles(folder).Where(IsImage).Order(StringComparer.Ordinal).ToList();

    /// <summary>Sub-folders in ordinal order, hidden ones left out.</summary>
    public static List<string> SubFolders(string folder) =>
        Directory.EnumerateDirectories(folder)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Order(StringComparer.Ordinal).ToList();

    public static void RequireFolder(string folder, string what, string fix)
    {
        if (Directory.Exists(folder)) return;
        var problem = File.Exists(folder) ? "is a file, not a folder" : "does not exist";
        throw new VigilInputException($"Folder '{folder}' {problem}: expected {what}. {fix}");
    }
}

/// <summary>
/// The mask images of one folder, found by the stem of the image they annotate: "x.png" annotates any "x.*" image,
/// and so does "x_mask.png" (the MVTec AD naming).
/// </summary>
internal sealed class MaskIndex
{
    private readonly Dictionary<string, string> _byStem = new(StringComparer.Ordinal);

    public MaskIndex(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var path in ImageFiles.List(folder))
        {
            var stem = Path.GetFileNameWithoutExtension(path);
            _byStem.TryAdd(stem, path);
            if (stem.EndsWith("_mask", StringComparison.Ordinal)) _byStem.TryAdd(stem[..^"_mask".Length], path);
        }
    }

    public string? Find(string imagePath) => _byStem.GetValueOrDefault(Path.GetFileNameWithoutExtension(imagePath));
}
