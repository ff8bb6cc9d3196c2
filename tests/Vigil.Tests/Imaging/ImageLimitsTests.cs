using System.Buffers.Binary;
using OpenCvSharp;
using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Tests.Imaging;

/// <summary>
/// Huge images are decoded reduced (their masks alike), absurd ones refused before decoding, and image writes that
/// fail for want of space or permission say so instead of blaming the extension.
/// </summary>
public class ImageLimitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-limits-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    // 8192 × 4096 stored → 4096 × 2048 decoded: an exact 2× reduction, so area averaging is the mean of each 2×2 block.
    private const int StoredHeight = 4096, StoredWidth = 8192;

    /// <summary>Per 2×2 block a base value plus 0, 10, 20, 30 at its four pixels: the block mean is base + 15.</summary>
    private static byte BlockBase(int blockY, int blockX) => (byte)((blockY * 7 + blockX * 13) % 200);

    [Fact]
    public void TheDecodedSizeKeepsTheAspectAndBoundsTheLongerSide()
    {
        Assert.Equal((4096, 2048), ImageLimits.DecodedSize(8192, 4096));
        Assert.Equal((2458, 4096), ImageLimits.DecodedSize(3000, 5000)); // 3000 · 4096 / 5000 = 2457.6
        Assert.Equal((4096, 4096), ImageLimits.DecodedSize(10000, 10000));
        Assert.Equal((4096, 1), ImageLimits.DecodedSize(100000, 1));
        Assert.Equal((4096, 4096), ImageLimits.DecodedSize(4096, 4096)); // at the limit: as stored
        Assert.Equal((1, 1), ImageLimits.DecodedSize(1, 1));
    }

    [Fact]
    public void AnImageAboveTheLimitIsAreaAveragedAndItsMaskFollowsByNearestNeighbour()
    {
        var pixels = new byte[StoredHeight * StoredWidth];
        var maskPixels = new byte[pixels.Length];
        for (int y = 0; y < StoredHeight; y++)
            for (int x = 0; x < StoredWidth; x++)
            {
                pixels[y * StoredWidth + x] = (byte)(BlockBase(y / 2, x / 2) + 10 * (2 * (y % 2) + x % 2));
                maskPixels[y * StoredWidth + x] = (y + x) % 3 == 0 ? (byte)255 : (byte)0;
            }
        var imagePath = Write("huge.png", pixels);
        var maskPath = Write("huge_mask.png", maskPixels);

        var (image, mask) = new Sample(imagePath, SampleLabel.Anomalous, "x", "d", "c", new MaskFile(maskPath)).Load();

        Assert.Equal((3, 2048, 4096), (image.Channels, image.Height, image.Width));
        Assert.Equal((2048, 4096), (mask.Height, mask.Width)); // the sample's mask/image size check held
        for (int y = 0; y < 2048; y++)
            for (int x = 0; x < 4096; x++)
            {
                float value = image.Data[y * 4096 + x] * 255;
                if (Math.Abs(value - (BlockBase(y, x) + 15)) > 1e-3) Assert.Fail($"pixel ({y}, {x}) is {value}, expected {BlockBase(y, x) + 15}");
                // OpenCV's nearest neighbour takes source pixel (2y, 2x).
                if (mask[y, x] != ((2 * y + 2 * x) % 3 == 0)) Assert.Fail($"mask pixel ({y}, {x}) is {mask[y, x]}");
            }
        Assert.Equal((StoredHeight, StoredWidth), ImageIO.ReadSize(imagePath)); // the stored size, from the header
    }

    [Fact]
    public void AJpegAboveTheLimitDecodesReducedToTheSameSize()
    {
        // Constant 16 × 16 blocks, so JPEG keeps them nearly exactly and halving gives 8 × 8 blocks of the same value.
        var pixels = new byte[StoredHeight * StoredWidth];
        for (int y = 0; y < StoredHeight; y++)
            for (int x = 0; x < StoredWidth; x++)
                pixels[y * StoredWidth + x] = (byte)(20 + BlockBase(y / 16, x / 16));
        var path = Write("huge.jpg", pixels);

        var image = ImageIO.ReadRgb(path);

        Assert.Equal((3, 2048, 4096), (image.Channels, image.Height, image.Width));
        for (int by = 0; by < 2048 / 8; by++)
            for (int bx = 0; bx < 4096 / 8; bx++)
                for (int c = 0; c < 3; c++)
                {
                    float value = image[c, by * 8 + 4, bx * 8 + 4] * 255;
                    Assert.InRange(value, 20 + BlockBase(by, bx) - 3, 20 + BlockBase(by, bx) + 3);
                }
    }

    [Fact]
    public void AnImageTooLargeToDecodeIsRefusedFromItsHeaderNamingItsSize()
    {
        // A PNG signature and IHDR chunk claiming 20000 × 20000 pixels (0.4 gigapixels, 1.2 GB as 8-bit RGB), and no data.
        var path = Path.Combine(_dir, "absurd.png");
        var header = new byte[33];
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(16), 20000);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(20), 20000);
        header[24] = 8; // bit depth
        header[25] = 2; // RGB
        File.WriteAllBytes(path, header);

        var e = Assert.Throws<VigilInputException>(() => ImageIO.ReadRgb(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("20000x20000", e.Message);
        Assert.Contains("Scale it down", e.Message);
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".jpg")]
    [InlineData(".bmp")]
    [InlineData(".tif")]
    public void TheHeaderGivesTheStoredSizeOfEveryFormat(string extension)
    {
        var path = Path.Combine(_dir, "size" + extension);
        using (var mat = new Mat(37, 53, MatType.CV_8UC3, Scalar.All(90))) Cv2.ImWrite(path, mat);
        Assert.Equal(((int, int, bool)?)(37, 53, extension == ".jpg"), ImageHeader.Read(path));
        Assert.Equal((37, 53), ImageIO.ReadSize(path));
    }

    [Fact]
    public void TinyImagesAreRecognisedBelowTheMinimumOnEitherSide()
    {
        Assert.True(ImageLimits.IsTiny(1, 1));
        Assert.True(ImageLimits.IsTiny(31, 500));
        Assert.True(ImageLimits.IsTiny(500, 31));
        Assert.False(ImageLimits.IsTiny(32, 32));
    }

    [Fact]
    public void AnUnknownExtensionIsBlamedOnTheExtension()
    {
        var e = Assert.Throws<VigilInputException>(() => ImageIO.Write(new ImageTensor(3, 4, 4), Path.Combine(_dir, "x.nosuch")));
        Assert.Contains("'.nosuch'", e.Message);
    }

    [TmpfsFact]
    public void AFullDiskOrAReadOnlyFolderIsReportedAsSuchNotAsABadExtension()
    {
        var noise = new ImageTensor(3, 256, 256);
        var random = new Random(3);
        for (int i = 0; i < noise.Data.Length; i++) noise.Data[i] = random.NextSingle(); // ~200 KB as PNG, far over 16 KiB
        using (var full = new Tmpfs(16 * 1024))
        {
            var path = full.Path("noise.png");
            var e = Assert.Throws<VigilInputException>(() => ImageIO.Write(noise, path));
            Assert.Contains(path, e.Message);
            Assert.Contains("No space left on device", e.Message);
            Assert.DoesNotContain("extension", e.Message);
            Assert.Empty(Directory.GetFileSystemEntries(full.Root)); // no half-written file
        }
        using (var readOnly = new Tmpfs(16 * 1024, readOnly: true))
        {
            var e = Assert.Throws<VigilInputException>(() => ImageIO.WriteMask(new BinaryMask(4, 4), readOnly.Path("mask.png")));
            Assert.Contains("Read-only file system", e.Message);
            Assert.DoesNotContain("extension", e.Message);
        }
    }

    private string Write(string name, byte[] grayPixels)
    {
        var path = Path.Combine(_dir, name);
        using var mat = Mat.FromPixelData(StoredHeight, StoredWidth, MatType.CV_8UC1, grayPixels);
        Assert.True(Cv2.ImWrite(path, mat));
        return path;
    }
}
