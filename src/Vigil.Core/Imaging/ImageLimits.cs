namespace Vigil.Imaging;

/// <summary>
/// The image sizes Vigil accepts and what it does outside them (docs/limits.md): huge images are decoded reduced,
/// absurd ones refused before decoding, tiny ones warned about.
/// </summary>
public static class ImageLimits
{
    /// <summary>
    /// An image whose longer side exceeds this is decoded reduced so its longer side is this (aspect kept, area
    /// average), and its mask likewise (nearest): a 10000×10000 image then needs about 200 MB as floats instead of
    /// 1.2 GB, and every model scales its input far below this anyway.
    /// </summary>
    public const int MaxDecodeSide = 4096;

    /// <summary>
    /// The most pixels an image may have where it must be decoded at full size before reducing (every format but
    /// JPEG, which decodes reduced): 16384 × 16384, i.e. 0.8 GB for 8-bit RGB, 1.6 GB at 16 bits.
    /// </summary>
    public const long MaxFullDecodePixels = 16384L * 16384;

    /// <summary>Below this on either side an image is warned about: a model enlarges it many times, so its score and map say little.</summary>
    public const int MinSide = 32;

    /// <summary>The size an image or mask stored at <paramref name="height"/> × <paramref name="width"/> is decoded to.</summary>
    public static (int Height, int Width) DecodedSize(int height, int width)
    {
        int longer = Math.Max(height, width);
        if (longer <= MaxDecodeSide) return (height, width);
        double scale = (double)MaxDecodeSide / longer;
        return height >= width
            ? (MaxDecodeSide, Math.Max(1, (int)Math.Round(width * scale)))
            : (Math.Max(1, (int)Math.Round(height * scale)), MaxDecodeSide);
    }

    /// <summary>Whether an image of this size is below <see cref="MinSide"/> on either side.</summary>
    public static bool IsTiny(int height, int width) => height < MinSide || width < MinSide;

    /// <summary>The warning for a tiny image, naming it.</summary>
    public static string TinyWarning(string path, int height, int width) =>
        $"Image '{path}' is {width}x{height} pixels, below {MinSide} on a side: a model enlarges it many times, so its score and map say little.";
}
