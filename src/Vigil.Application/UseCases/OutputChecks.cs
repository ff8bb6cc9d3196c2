namespace Vigil.UseCases;

/// <summary>Checks that outputs can be written before long work starts, so a wrong path fails in a second, not after an hour.</summary>
public static class OutputChecks
{
    /// <summary>Creates <paramref name="directory"/> if needed and proves it writable with a probe file; else an input error naming it.</summary>
    public static void RequireWritableDirectory(string directory, string what)
    {
        var full = Path.GetFullPath(directory);
        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".vigil-write-test-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Cannot write {what} to '{full}': {e.Message} Choose a writable folder.", e);
        }
    }

    /// <summary>Checks that the file <paramref name="path"/> can be created (its folder is made writable-checked); an existing folder of that name is an error.</summary>
    public static void RequireWritableFile(string path, string what)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new VigilInputException($"Cannot write {what} to '{full}': it is a folder. Give a file name.");
        RequireWritableDirectory(Path.GetDirectoryName(full)!, what);
    }
}
