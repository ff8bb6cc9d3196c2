using OpenCvSharp;

namespace Vigil.Tests.Data;

/// <summary>A throw-away folder tree of tiny images, masks and text files for loader tests.</summary>
public sealed class TempTree : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("vigil-data-").FullName;

    public void Dispose() => Directory.Delete(Root, true);

    public string Path(string relative) => System.IO.Path.Combine(Root, relative);

    /// <summary>A gray image of the given size; the format follows the extension.</summary>
    public string Image(string relative, int height = 6, int width = 8, byte value = 128)
    {
        var path = Prepare(relative);
        using var mat = new Mat(height, width, MatType.CV_8UC1, Scalar.All(value));
        Cv2.ImWrite(path, mat);
        return path;
    }

    /// <summary>A mask with one defective pixel at (0, 0).</summary>
    public string Mask(string relative, int height = 6, int width = 8)
    {
        var path = Prepare(relative);
        using var mat = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        mat.Set(0, 0, (byte)255);
        Cv2.ImWrite(path, mat);
        return path;
    }

    /// <summary>An 8-bit single-channel image holding <paramref name="value"/> at the given row-major pixels and 0 elsewhere (a LOCO channel).</summary>
    public string Channel(string relative, int height, int width, byte value, params int[] pixels)
    {
        var path = Prepare(relative);
        using var mat = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        foreach (int p in pixels) mat.Set(p / width, p % width, value);
        Cv2.ImWrite(path, mat);
        return path;
    }

    public string Text(string relative, string content)
    {
        var path = Prepare(relative);
        File.WriteAllText(path, content);
        return path;
    }

    public string Folder(string relative) => Directory.CreateDirectory(Path(relative)).FullName;

    private string Prepare(string relative)
    {
        var path = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }
}
