namespace Vigil;

/// <summary>
/// Finds the project's shared real data and weights (<c>shared/</c>, see shared/README.md) so specs like "mtd" and
/// the backbone "mobilenetv2_int8_onnx" work without a path: $VIGIL_SHARED first, then a <c>shared/</c> folder
/// holding <c>data/</c> in any ancestor of the current directory or of the program's folder.
/// </summary>
public static class SharedFolder
{
    /// <summary>The shared folder, or null when there is none.</summary>
    public static string? Root { get; } = Locate();

    /// <summary>The path of <paramref name="parts"/> inside the shared folder when it exists (file or folder), else null.</summary>
    public static string? Find(params string[] parts)
    {
        if (Root == null) return null;
        var path = Path.Combine([Root, .. parts]);
        return Directory.Exists(path) || File.Exists(path) ? path : null;
    }

    private static string? Locate()
    {
        var env = Environment.GetEnvironmentVariable("VIGIL_SHARED");
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
            }
        return null;
    }
}
