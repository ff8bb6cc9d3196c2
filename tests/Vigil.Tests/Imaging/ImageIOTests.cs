using OpenCvSharp;
using Vigil.Imaging;

namespace Vigil.Tests.Imaging;

public class ImageIOTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-io-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Gray16BitPngBecomesThreeEqualChannelsScaledBy65535()
    {
        var path = Path.Combine(_dir, "g16.png");
        var values = new ushort[] { 0, 1000, 65535, 30000, 12345, 5 };
        using (var m = Mat.FromPixelData(2, 3, MatType.CV_16UC1, values)) Cv2.ImWrite(path, m);
        var img = ImageIO.ReadRgb(path);
        Assert.Equal((3, 2, 3), (img.Channels, img.Height, img.Width));
        for (int i = 0; i < values.Length; i++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(values[i] / 65535f, img.Data[c * 6 + i], 6);
    }

    [Fact]
    public void ColourPngIsReadAsRgbNotBgr()
    {
        var path = Path.Combine(_dir, "c.png");
        // OpenCV stores BGR: blue=10, green=20, red=30.
        using (var m = new Mat(1, 1, MatType.CV_8UC3, new Scalar(10, 20, 30))) Cv2.ImWrite(path, m);
        var img = ImageIO.ReadRgb(path);
        Assert.Equal(30 / 255f, img[0, 0, 0], 6);
        Assert.Equal(20 / 255f, img[1, 0, 0], 6);
        Assert.Equal(10 / 255f, img[2, 0, 0], 6);
    }

    [Fact]
    public void FloatTiffKeepsItsValues()
    {
        var path = Path.Combine(_dir, "f.tiff");
        var values = new float[] { -1.5f, 0.25f, 3.75f, 100f };
        using (var m = Mat.FromPixelData(2, 2, MatType.CV_32FC1, values)) Cv2.ImWrite(path, m);
        var img = ImageIO.ReadRgb(path);
        Assert.Equal(values, img.Plane(1).ToArray());
    }

    [Theory]
    [InlineData(".jpg")]
    [InlineData(".bmp")]
    public void EightBitFormatsRoundTrip(string ext)
    {
        var path = Path.Combine(_dir, "x" + ext);
        var img = new ImageTensor(3, 8, 8);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = 0.5f;
        ImageIO.Write(img, path);
        var back = ImageIO.ReadRgb(path);
        Assert.All(back.Data, v => Assert.InRange(v, 0.48f, 0.52f));
    }

    [Fact]
    public void MaskIsBinarisedAtAnyNonZeroValue()
    {
        var path = Path.Combine(_dir, "m.png");
        using (var m = Mat.FromPixelData(1, 4, MatType.CV_8UC1, new byte[] { 0, 1, 128, 255 })) Cv2.ImWrite(path, m);
        Assert.Equal(new[] { false, true, true, true }, ImageIO.ReadMask(path).Data);
    }

    [Fact]
    public void TruncatedJpegGivesAClearErrorNamingTheFile()
    {
        var path = Path.Combine(_dir, "t.jpg");
        var img = new ImageTensor(3, 64, 64);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (i % 7) / 7f;
        ImageIO.Write(img, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<VigilInputException>(() => ImageIO.ReadRgb(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void GarbageBytesGiveAClearErrorNamingTheFile()
    {
        var path = Path.Combine(_dir, "bad.png");
        File.WriteAllText(path, "this is not a png");
        var e = Assert.Throws<VigilInputException>(() => ImageIO.ReadRgb(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot be decoded", e.Message);
    }

    [Fact]
    public void TruncatedPngGivesAClearError()
    {
        var path = Path.Combine(_dir, "t.png");
        var img = new ImageTensor(3, 64, 64);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (i * 31 % 97) / 97f;
        ImageIO.Write(img, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Throws<VigilInputException>(() => ImageIO.ReadRgb(path));
    }
}
