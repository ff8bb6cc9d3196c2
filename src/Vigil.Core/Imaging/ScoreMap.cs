namespace Vigil.Imaging;

/// <summary>A per-pixel anomaly score map, row-major; higher = more anomalous.</summary>
public sealed class ScoreMap
{
    public ScoreMap(int height, int width, float[]? data = null)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"Map size {height}x{width} must be positive.");
        Data = data ?? new float[height * width];
        if (Data.Length != height * width)
            throw new ArgumentException($"Data has {Data.Length} values; {height}x{width} needs {height * width}.", nameof(data));
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }
    public float[] Data { get; }

    public float this[int y, int x]
    {
        get => Data[y * Width + x];
        set => Data[y * Width + x] = value;
    }

    /// <summary>Bilinear resize (e.g. to a ground-truth mask's size).</summary>
    public ScoreMap Resize(int height, int width)
    {
        var resized = ImageOps.Resize(new ImageTensor(1, Height, Width, Data), height, width);
        return new ScoreMap(height, width, resized.Data);
    }
}
