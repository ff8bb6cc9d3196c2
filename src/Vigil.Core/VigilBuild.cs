using System.Reflection;

namespace Vigil;

/// <summary>Which Vigil produced a result: the version and the git commit it was built from (recorded with every run).</summary>
public static class VigilBuild
{
    private static readonly string Informational =
        typeof(VigilBuild).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The version without build metadata, e.g. "0.1.0".</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The commit the build came from (the SDK appends it to the informational version from git); null when built outside git.</summary>
    public static string? GitCommit { get; } = Informational.Contains('+') ? Informational[(Informational.IndexOf('+') + 1)..] : null;
}
