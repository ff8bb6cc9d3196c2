namespace Vigil.Imaging;

/// <summary>A pixel mask, row-major, true = defective pixel.</summary>
public sealed class BinaryMask
{
    public BinaryMask(int height, int width, bool[]? data = null)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"Mask size {height}x{width} must be positive.");
        Data = data ?? new bool[height * width];
        if (Data.Length != height * width)
            throw new ArgumentException($"Data has {Data.Length} values; {height}x{width} needs {height * width}.", nameof(data));
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }
    public bool[] Data { get; }

    public bool this[int y, int x]
    {
        get => Data[y * Width + x];
        set => Data[y * Width + x] = value;
    }

    public int CountDefective() => Data.Count(v => v);

    public static BinaryMask Empty(int height, int width) => new(height, width);
}
