namespace Vigil.Training;

/// <summary>
/// Where a training keeps its one latest checkpoint, so an interrupted run (Ctrl+C, a killed process, a worker losing
/// its job) continues where it stopped. Writes are atomic: a reader sees the previous checkpoint or the new one, whole.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Opens the latest checkpoint, or null when there is none.</summary>
    Stream? OpenRead();

    /// <summary>Replaces the checkpoint with what <paramref name="write"/> writes.</summary>
    void Write(Action<Stream> write);

    /// <summary>Removes the checkpoint (the training finished).</summary>
    void Delete();

    /// <summary>Where it is, for people.</summary>
    string Location { get; }
}

/// <summary>A checkpoint in one file, replaced by writing a temporary file beside it and renaming it over the old one.</summary>
public sealed class CheckpointFile(string path) : ICheckpointStore
{
    public string Location { get; } = Path.GetFullPath(path);

    public Stream? OpenRead() => File.Exists(Location) ? File.OpenRead(Location) : null;

    public void Write(Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Location)!);
        string temporary = Location + ".partial";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, Location, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public void Delete()
    {
        if (File.Exists(Location)) File.Delete(Location); // none when the training ended before its first checkpoint (epochs=1)
    }
}
