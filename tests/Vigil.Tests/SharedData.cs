namespace Vigil.Tests;

/// <summary>
/// The project's real data (<see cref="SharedFolder"/>). Tests that need it call <see cref="RequireDirectory"/>,
/// which fails loudly when it is missing, so a machine without the data never passes by silently skipping.
/// </summary>
public static class SharedData
{
    public static string RequireDirectory(params string[] parts)
    {
        var root = SharedFolder.Root ?? throw new DirectoryNotFoundException(
            "shared/ (the project's real data) was not found beside the repository; set VIGIL_SHARED to its path.");
        return SharedFolder.Find(parts) ?? throw new DirectoryNotFoundException($"{Path.Combine([root, .. parts])} is missing from shared/.");
    }
}
