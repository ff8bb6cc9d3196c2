namespace Vigil.Data;

/// <summary>
/// Finds the project's shared real data (<c>shared/data/&lt;name&gt;</c>, see shared/README.md) so specs like "mtd"
/// work without a path: $VIGIL_SHARED first, then a <c>shared/</c> folder in any ancestor of the current directory
/// or of the program's folder.
/// </summary>
public static class SharedDataFolder
{
    public static string? Find(params string[] parts)
    {
        var relative = Path.Combine(["data", .. parts]);
        var env = Environment.GetEnvironmentVariable("VIGIL_SHARED");
        if (!string.IsNullOrEmpty(env))
            return Directory.Exists(Path.Combine(env, relative)) ? Path.Combine(env, relative) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", relative);
                if (Directory.Exists(candidate)) return candidate;
            }
        return null;
    }
}
