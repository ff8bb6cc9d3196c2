namespace Vigil.Tests;

/// <summary>
/// Locates the project's real data (`shared/` beside the repository root, see shared/README.md).
/// Tests that need it call <see cref="RequireDirectory"/>, which fails loudly when it is missing, so a
/// machine without the data never passes by silently skipping.
/// </summary>
public static class SharedData
{
    /// <summary>The shared folder: $VIGIL_SHARED, else the nearest ancestor's `shared/` holding data/.</summary>
    public static string? Root { get; } = Find();

    public static string RequireDirectory(params string[] parts)
    {
        var root = Root ?? throw new DirectoryNotFoundException(
            "shared/ (the project's real data) was not found beside the repository; set VIGIL_SHARED to its path.");
        var path = Path.Combine([root, .. parts]);
        if (!Directory.Exists(path) && !File.Exists(path)) throw new DirectoryNotFoundException($"{path} is missing from shared/.");
        return path;
    }

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("VIGIL_SHARED");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
        }
        return null;
    }
}
