namespace Vigil.Imaging;

/// <summary>
/// A float image in channel-major (CHW) layout, the layout networks take. Pixel values of decoded 8/16-bit files
/// are scaled to [0, 1]; float TIFFs keep their values.
/// </summary>
public sealed class ImageTensor
{
    public ImageTensor(int channels, int height, int width, float[]? data = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), $"Image size {channels}x{height}x{width} must be positive.");
        Data = data ?? new float[channels * height * width];
        if (Data.Length != channels * height * width)
            throw new ArgumentException($"Data has {Data.Length} values; {channels}x{height}x{width} needs {channels * height * width}.", nameof(data));
        Channels = channels;
        Height = height;
        Width = width;
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public float[] Data { get; }

    public float this[int c, int y, int x]
    {
        get => Data[(c * Height + y) * Width + x];
        set => Data[(c * Height + y) * Width + x] = value;
    }

    public Span<float> Plane(int channel) => Data.AsSpan(channel * Height * Width, Height * Width);
}
