namespace Vigil;

/// <summary>
/// Writes output files whole or not at all: into a temporary file beside the target, moved into place when complete,
/// so a full disk or a killed process never leaves a half-written file that looks finished. An I/O failure is an
/// input error naming the file.
/// </summary>
public static class FileOutput
{
    public static void WriteAllBytes(string path, byte[] content) => Write(path, temporary => File.WriteAllBytes(temporary, content));

    public static void WriteAllText(string path, string content) => Write(path, temporary => File.WriteAllText(temporary, content));

    private static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".partial";
        try
        {
            write(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary)) File.Delete(temporary);
            throw new VigilInputException($"Could not write '{full}': {e.Message} Free disk space or choose a writable folder.", e);
        }
    }
}
