namespace Vigil;

/// <summary>
/// Temporary read-write files that nothing can leave behind. On Linux and macOS the file's name is removed as soon as
/// it is open: its data lives until the handle closes, and the system frees it even when the process is killed
/// (a killed PatchCore fit used to leave gigabytes of rows in TMPDIR). Elsewhere it is deleted when closed.
/// </summary>
public static class ScratchFile
{
    /// <summary>
    /// A new empty file named <paramref name="prefix"/> + a GUID in <paramref name="folder"/> (default: the system's
    /// temporary folder, TMPDIR); <paramref name="path"/> is the name it had, for messages.
    /// </summary>
    public static FileStream Create(string prefix, string? folder, out string path)
    {
        path = Path.Combine(folder ?? Path.GetTempPath(), $"{prefix}{Guid.NewGuid():N}.tmp");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        if (!OperatingSystem.IsWindows()) File.Delete(path); // the open handle keeps the data
        return file;
    }
}
