using System.Buffers.Binary;

namespace Vigil.Imaging;

/// <summary>
/// An image's stored size read from its file header (PNG, JPEG, BMP, TIFF), without decoding: so a huge image can be
/// decoded reduced, or refused, before it takes gigabytes. OpenCV has no header-only read.
/// </summary>
internal static class ImageHeader
{
    /// <summary>The size and whether the file is a JPEG; null when the format is not one of these or the header is damaged (decoding then decides).</summary>
    public static (int Height, int Width, bool Jpeg)? Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file);
    }

    /// <summary>As <see cref="Read(string)"/>, from a seekable stream holding the file's bytes (e.g. an upload).</summary>
    public static (int Height, int Width, bool Jpeg)? Read(Stream file)
    {
        Span<byte> head = stackalloc byte[26];
        int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];
        try
        {
            if (n >= 24 && head[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
                return Valid(BinaryPrimitives.ReadInt32BigEndian(head[20..]), BinaryPrimitives.ReadInt32BigEndian(head[16..]), false);
            if (n >= 26 && head[0] == 'B' && head[1] == 'M')
                return Valid(Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(head[22..])), BinaryPrimitives.ReadInt32LittleEndian(head[18..]), false);
            if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
                return Jpeg(file) is { } jpeg ? Valid(jpeg.Height, jpeg.Width, true) : null;
            if (n >= 8 && (head[..4].SequenceEqual("II*\0"u8) || head[..4].SequenceEqual("MM\0*"u8)))
                return Tiff(file, littleEndian: head[0] == 'I') is { } tiff ? Valid(tiff.Height, tiff.Width, false) : null;
        }
        catch (EndOfStreamException) { }
        return null;
    }

    private static (int, int, bool)? Valid(int height, int width, bool jpeg) => height > 0 && width > 0 ? (height, width, jpeg) : null;

    /// <summary>The first start-of-frame segment (SOF0–SOF15 but DHT, JPG, DAC), walking the segments by their lengths.</summary>
    private static (int Height, int Width)? Jpeg(Stream file)
    {
        Span<byte> marker = stackalloc byte[2];
        Span<byte> frame = stackalloc byte[5];
        file.Position = 2;
        while (true)
        {
            file.ReadExactly(marker);
            if (marker[0] != 0xFF) return null;
            byte code = marker[1];
            if (code == 0xFF) { file.Position--; continue; } // fill byte
            if (code is 0xD8 or 0x01 or >= 0xD0 and <= 0xD7) continue; // no length
            if (code is 0xD9 or 0xDA) return null; // end of image or start of scan before any frame header
            file.ReadExactly(marker);
            int length = BinaryPrimitives.ReadUInt16BigEndian(marker);
            if (length < 2) return null; // a damaged length would walk backwards forever
            if (code is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                file.ReadExactly(frame); // precision, height, width
                return (BinaryPrimitives.ReadUInt16BigEndian(frame[1..]), BinaryPrimitives.ReadUInt16BigEndian(frame[3..]));
            }
            file.Position += length - 2;
        }
    }

    /// <summary>ImageLength (257) and ImageWidth (256) of the first image file directory.</summary>
    private static (int Height, int Width)? Tiff(Stream file, bool littleEndian)
    {
        Span<byte> buffer = stackalloc byte[12];
        uint Read32(ReadOnlySpan<byte> b) => littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
        ushort Read16(ReadOnlySpan<byte> b) => littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        file.Position = 4;
        file.ReadExactly(buffer[..4]);
        file.Position = Read32(buffer);
        file.ReadExactly(buffer[..2]);
        int entries = Read16(buffer);
        long height = -1, width = -1;
        for (int i = 0; i < entries; i++)
        {
            file.ReadExactly(buffer);
            ushort tag = Read16(buffer), type = Read16(buffer[2..]);
            long value = type == 3 ? Read16(buffer[8..]) : type == 4 ? Read32(buffer[8..]) : -1;
            if (tag == 256) width = value;
            else if (tag == 257) height = value;
        }
        return height is > 0 and <= int.MaxValue && width is > 0 and <= int.MaxValue ? ((int)height, (int)width) : null;
    }
}
