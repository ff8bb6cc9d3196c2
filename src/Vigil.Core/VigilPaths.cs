namespace Vigil;

/// <summary>Where Vigil keeps files it can recreate (generated datasets, downloaded weights).</summary>
public static class VigilPaths
{
    /// <summary>$VIGIL_CACHE, else $XDG_CACHE_HOME/vigil, else ~/.cache/vigil.</summary>
    public static string CacheRoot
    {
        get
        {
            var explicitRoot = Environment.GetEnvironmentVariable("VIGIL_CACHE");
            if (!string.IsNullOrEmpty(explicitRoot)) return explicitRoot;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(baseDir, "vigil");
        }
    }
}
