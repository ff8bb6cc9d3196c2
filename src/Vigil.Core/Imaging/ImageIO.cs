using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Vigil.Imaging;

/// <summary>
/// Decodes and encodes images and masks with OpenCV (PNG 8/16-bit, JPEG, BMP, TIFF incl. float). Images larger than
/// <see cref="ImageLimits.MaxDecodeSide"/> are decoded reduced, and their masks likewise (see <see cref="ImageLimits"/>).
/// </summary>
public static class ImageIO
{
    /// <summary>
    /// Reads an image as RGB CHW floats: 8-bit values /255, 16-bit /65535, float kept as is.
    /// Grayscale becomes 3 identical channels (RGB backbones need 3); an alpha channel is dropped.
    /// A longer side above <see cref="ImageLimits.MaxDecodeSide"/> is reduced to it (area average; a JPEG decodes reduced).
    /// </summary>
    public static ImageTensor ReadRgb(string path)
    {
        using var mat = Decode(path, mask: false);
        using var rgb = ToThreeChannelRgb(mat, path);
        return MatToTensor(rgb, ScaleFor(rgb.Depth(), path));
    }

    /// <summary>
    /// Decodes an image held in memory (e.g. an upload) as <see cref="ReadRgb"/> reads a file, within the same size
    /// limits (reduced above <see cref="ImageLimits.MaxDecodeSide"/>, refused from the header when absurd);
    /// <paramref name="name"/> names it in errors.
    /// </summary>
    public static ImageTensor DecodeRgb(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new VigilInputException($"Image '{name}' is empty (0 bytes).");
        if (bytes is [0xFF, 0xD8, 0xFF, ..] && bytes.AsSpan(Math.Max(0, bytes.Length - 4096)).IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) < 0)
            throw new VigilInputException($"Image '{name}' is a truncated JPEG (no end-of-image marker).");
        using var stream = new MemoryStream(bytes, writable: false);
        using var mat = Decode(ImageHeader.Read(stream), name, mask: false, mode => Checked(name, () => Cv2.ImDecode(bytes, mode)));
        using var rgb = ToThreeChannelRgb(mat, name);
        return MatToTensor(rgb, ScaleFor(rgb.Depth(), name));
    }

    /// <summary>An image's height and width as stored (from the file header; formats without a known header are decoded).</summary>
    public static (int Height, int Width) ReadSize(string path)
    {
        RequireComplete(path);
        if (ImageHeader.Read(path) is { } header) return (header.Height, header.Width);
        using var mat = Checked(path, () => Cv2.ImRead(path, ImreadModes.Unchanged));
        return (mat.Rows, mat.Cols);
    }

    /// <summary>
    /// Reads a mask; any non-zero pixel (in any channel) is defective. A mask larger than
    /// <see cref="ImageLimits.MaxDecodeSide"/> is reduced (nearest) to the size its image of the same size is decoded to.
    /// </summary>
    public static BinaryMask ReadMask(string path)
    {
        using var mat = Decode(path, mask: true);
        using var gray = new Mat();
        if (mat.Channels() == 1) mat.CopyTo(gray);
        else
        {
            // Max over channels, so a coloured annotation counts wherever any channel is set.
            var channels = mat.Split();
            channels[0].CopyTo(gray);
            foreach (var c in channels.Skip(1)) Cv2.Max(gray, c, gray);
            foreach (var c in channels) c.Dispose();
        }
        using var nonZero = new Mat();
        Cv2.Compare(gray, new Scalar(0), nonZero, CmpTypes.GT);
        var bytes = new byte[nonZero.Rows * nonZero.Cols];
        Marshal.Copy(nonZero.Data, bytes, 0, bytes.Length); // freshly allocated by Compare, so continuous
        return new BinaryMask(nonZero.Rows, nonZero.Cols, Array.ConvertAll(bytes, b => b != 0));
    }

    /// <summary>Writes an RGB/grayscale tensor with values in [0, 1] as an 8-bit image (format from the extension).</summary>
    public static void Write(ImageTensor image, string path)
    {
        using var mat = TensorToMat8U(image);
        WriteMat(mat, path);
    }

    /// <summary>An RGB/grayscale tensor with values in [0, 1] as the bytes of an 8-bit PNG file.</summary>
    public static byte[] EncodePng(ImageTensor image)
    {
        using var mat = TensorToMat8U(image);
        Cv2.ImEncode(".png", mat, out var bytes);
        return bytes;
    }

    /// <summary>Writes a mask as an 8-bit image, 255 = defective.</summary>
    public static void WriteMask(BinaryMask mask, string path)
    {
        var bytes = Array.ConvertAll(mask.Data, v => v ? (byte)255 : (byte)0);
        using var mat = Mat.FromPixelData(mask.Height, mask.Width, MatType.CV_8UC1, bytes);
        WriteMat(mat, path);
    }

    /// <summary>
    /// Encodes first (an unknown extension is the only reason that fails), then writes the file whole (see
    /// <see cref="FileOutput"/>): a full disk or an unwritable folder is reported as such, naming the file.
    /// </summary>
    internal static void WriteMat(Mat mat, string path)
    {
        var extension = Path.GetExtension(path);
        byte[] bytes;
        bool encoded;
        try { encoded = Cv2.ImEncode(extension, mat, out bytes); }
        catch (OpenCVException) { (encoded, bytes) = (false, []); }
        if (!encoded)
            throw new VigilInputException($"Could not write image '{path}': no image format has the extension '{extension}'. Use .png, .jpg, .bmp or .tif.");
        var full = Path.GetFullPath(path);
        try { Directory.CreateDirectory(Path.GetDirectoryName(full)!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Could not write image '{full}': {e.Message} Choose a writable folder.", e);
        }
        FileOutput.WriteAllBytes(full, bytes);
    }

    /// <summary>
    /// Decodes an image or mask at most <see cref="ImageLimits.MaxDecodeSide"/> on its longer side: a JPEG whose header
    /// says it is larger decodes at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling) before the exact reduction; other
    /// formats decode whole (refused above <see cref="ImageLimits.MaxFullDecodePixels"/>) and are then reduced, images by
    /// area average, masks by nearest neighbour, both to <see cref="ImageLimits.DecodedSize"/> of the stored size.
    /// </summary>
    private static Mat Decode(string path, bool mask)
    {
        RequireComplete(path);
        return Decode(ImageHeader.Read(path), path, mask, mode => Checked(path, () => Cv2.ImRead(path, mode)));
    }

    /// <param name="header">The stored size from the header, if it could be read.</param>
    /// <param name="name">The file (or upload) named in errors.</param>
    /// <param name="read">Decodes the file or bytes with the given mode.</param>
    private static Mat Decode((int Height, int Width, bool Jpeg)? header, string name, bool mask, Func<ImreadModes, Mat> read)
    {
        if (header is { } stored)
        {
            var target = ImageLimits.DecodedSize(stored.Height, stored.Width);
            if (stored.Jpeg && !mask && target != (stored.Height, stored.Width))
                return Reduce(read(JpegReduction(stored.Height, stored.Width, target) | ImreadModes.IgnoreOrientation), target, InterpolationFlags.Area);
            if ((long)stored.Height * stored.Width > ImageLimits.MaxFullDecodePixels)
                throw new VigilInputException(
                    $"Image '{name}' is {stored.Width}x{stored.Height} pixels ({(double)stored.Height * stored.Width / 1e6:F0} megapixels); Vigil decodes at most " +
                    $"{ImageLimits.MaxFullDecodePixels / 1e6:F0} megapixels of a {(stored.Jpeg ? "JPEG mask" : "non-JPEG image")} at full size. " +
                    $"Scale it down (a longer side of {ImageLimits.MaxDecodeSide} is what Vigil uses) or remove it.");
        }
        var mat = read(ImreadModes.Unchanged);
        return Reduce(mat, ImageLimits.DecodedSize(mat.Rows, mat.Cols), mask ? InterpolationFlags.Nearest : InterpolationFlags.Area);
    }

    /// <summary>The largest JPEG scale-down (1/8, 1/4, 1/2) that still leaves at least <paramref name="target"/> pixels, as a colour read.</summary>
    private static ImreadModes JpegReduction(int height, int width, (int Height, int Width) target)
    {
        foreach (var (factor, mode) in new[] { (8, ImreadModes.ReducedColor8), (4, ImreadModes.ReducedColor4), (2, ImreadModes.ReducedColor2) })
            if ((height + factor - 1) / factor >= target.Height && (width + factor - 1) / factor >= target.Width) return mode;
        return ImreadModes.Color;
    }

    /// <summary><paramref name="mat"/> at <paramref name="target"/> size (itself when it already is; else it is disposed).</summary>
    private static Mat Reduce(Mat mat, (int Height, int Width) target, InterpolationFlags interpolation)
    {
        if (mat.Rows == target.Height && mat.Cols == target.Width) return mat;
        using (mat)
        {
            var reduced = new Mat();
            Cv2.Resize(mat, reduced, new Size(target.Width, target.Height), 0, 0, interpolation);
            return reduced;
        }
    }

    /// <summary>The file exists, is not empty and, if a JPEG, is not cut off.</summary>
    private static void RequireComplete(string path)
    {
        if (!File.Exists(path))
            throw new VigilInputException($"Image '{path}' does not exist.");
        if (new FileInfo(path).Length == 0)
            throw new VigilInputException($"Image '{path}' is empty (0 bytes): replace it with a valid image or remove it.");
        if (IsJpeg(path) && !HasJpegEndMarker(path))
            throw new VigilInputException($"Image '{path}' is a truncated JPEG (no end-of-image marker): replace it with a complete file or remove it.");
    }

    /// <summary>The decoded image; an OpenCV failure or an empty result is a corrupt image named <paramref name="name"/>.</summary>
    private static Mat Checked(string name, Func<Mat> decode)
    {
        Mat mat;
        try { mat = decode(); }
        catch (OpenCVException e) { throw Corrupt(name, e); }
        catch (TypeInitializationException e) when (e.InnerException is DllNotFoundException missing) { throw NativeLibraryMissing(missing); }
        if (mat.Empty())
        {
            mat.Dispose();
            throw Corrupt(name, null);
        }
        return mat;
    }

    /// <summary>
    /// OpenCV's native library did not load (decoding is the first thing every run does); on a fresh Debian or Ubuntu
    /// machine that is its GTK dependency. Said plainly instead of a type-initializer stack trace.
    /// </summary>
    private static VigilInputException NativeLibraryMissing(DllNotFoundException missing) =>
        new("OpenCV's native library (OpenCvSharpExtern) could not be loaded, so no image can be decoded. It needs GTK 3: " +
            "on Debian or Ubuntu run 'apt-get install -y libgtk-3-0'. The loader said: " + missing.Message, missing);

    private static VigilInputException Corrupt(string path, Exception? inner) =>
        new($"Image '{path}' cannot be decoded: it is corrupt, truncated or not a supported image (PNG, JPEG, BMP, TIFF). Replace it or remove it.", inner);

    private static bool IsJpeg(string path)
    {
        Span<byte> head = stackalloc byte[3];
        using var f = File.OpenRead(path);
        return f.Read(head) == 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;
    }

    /// <summary>A complete JPEG ends with FF D9; some writers pad after it, so look at the tail, not the last two bytes only.</summary>
    private static bool HasJpegEndMarker(string path)
    {
        using var f = File.OpenRead(path);
        int tail = (int)Math.Min(f.Length, 4096);
        var buf = new byte[tail];
        f.Seek(-tail, SeekOrigin.End);
        f.ReadExactly(buf);
        for (int i = tail - 2; i >= 0; i--)
            if (buf[i] == 0xFF && buf[i + 1] == 0xD9) return true;
        return false;
    }

    private static Mat ToThreeChannelRgb(Mat mat, string path)
    {
        var rgb = new Mat();
        switch (mat.Channels())
        {
            case 1: Cv2.CvtColor(mat, rgb, ColorConversionCodes.GRAY2RGB); break;
            case 3: Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGR2RGB); break;
            case 4: Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGRA2RGB); break;
            default:
                rgb.Dispose();
                throw new VigilInputException($"Image '{path}' has {mat.Channels()} channels; Vigil reads 1 (gray), 3 (colour) or 4 (with alpha).");
        }
        return rgb;
    }

    private static double ScaleFor(MatType depth, string path)
    {
        if (depth == MatType.CV_8U) return 1.0 / 255;
        if (depth == MatType.CV_16U) return 1.0 / 65535;
        if (depth == MatType.CV_32F || depth == MatType.CV_64F) return 1.0;
        throw new VigilInputException($"Image '{path}' has an unsupported pixel depth ({depth}); use 8-bit, 16-bit or float images.");
    }

    internal static ImageTensor MatToTensor(Mat mat, double scale)
    {
        int h = mat.Rows, w = mat.Cols, ch = mat.Channels();
        using var f = new Mat();
        mat.ConvertTo(f, MatType.CV_32FC(ch), scale);
        var tensor = new ImageTensor(ch, h, w);
        var planes = f.Split();
        try
        {
            for (int c = 0; c < ch; c++) // Split allocates each plane, so they are continuous
                Marshal.Copy(planes[c].Data, tensor.Data, c * h * w, h * w);
        }
        finally { foreach (var p in planes) p.Dispose(); }
        return tensor;
    }

    internal static Mat TensorToMat(ImageTensor image)
    {
        int plane = image.Height * image.Width;
        var planes = new Mat[image.Channels];
        for (int c = 0; c < image.Channels; c++)
        {
            planes[c] = new Mat(image.Height, image.Width, MatType.CV_32FC1);
            Marshal.Copy(image.Data, c * plane, planes[c].Data, plane);
        }
        var merged = new Mat();
        Cv2.Merge(planes, merged);
        foreach (var p in planes) p.Dispose();
        return merged;
    }

    private static Mat TensorToMat8U(ImageTensor image)
    {
        if (image.Channels != 1 && image.Channels != 3)
            throw new ArgumentException($"Only 1- or 3-channel images can be written, got {image.Channels}.", nameof(image));
        using var f = TensorToMat(image);
        using var u8 = new Mat();
        f.ConvertTo(u8, MatType.CV_8UC(image.Channels), 255.0);
        var bgr = new Mat();
        if (image.Channels == 3) Cv2.CvtColor(u8, bgr, ColorConversionCodes.RGB2BGR);
        else u8.CopyTo(bgr);
        return bgr;
    }
}
