using Vigil.Imaging;

namespace Vigil.Tests.Imaging;

/// <summary>The torchvision protocol options of <see cref="Preprocessing"/>: short-side resize, crop, mask geometry.</summary>
public class PreprocessingTests
{
    private static ImageTensor Ramp(int height, int width)
    {
        var image = new ImageTensor(3, height, width);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    image[c, y, x] = (x + 2 * y + c) % 17 / 16f;
        return image;
    }

    [Theory]
    // torchvision: the short side becomes 256, the long int(256 · long / short): 400·256/300 = 341.33 → 341.
    [InlineData(300, 400, 256, 341)]
    [InlineData(400, 300, 341, 256)]
    [InlineData(256, 256, 256, 256)]
    // MTD's smallest width: 103×222 → 256 × int(551.77) = 551.
    [InlineData(222, 103, 551, 256)]
    public void ShortSideKeepsTheAspectRatioAsTorchvisionTruncates(int height, int width, int resizedHeight, int resizedWidth)
    {
        var preprocessing = Preprocessing.ShortSide(256, 224, ResizeFilter.AntialiasedBilinear, MaskResize.CentredNearest);
        Assert.Equal((resizedHeight, resizedWidth), preprocessing.ResizedSize(height, width));
        var output = preprocessing.Apply(Ramp(height, width));
        Assert.Equal((3, 224, 224), (output.Channels, output.Height, output.Width));
        var mask = preprocessing.ApplyToMask(new BinaryMask(height, width));
        Assert.Equal((224, 224), (mask.Height, mask.Width));
    }

    [Fact]
    public void ShortSideIsResizeThenCentreCropThenNormalise()
    {
        var image = Ramp(30, 50);
        var preprocessing = Preprocessing.ShortSide(20, 16, ResizeFilter.AntialiasedLanczos, MaskResize.CentredNearest);
        var output = preprocessing.Apply(image);
        // By hand: 30×50 → 20×33 (int(20·50/30) = 33), crop origin round((20-16)/2) = 2, round((33-16)/2) = round(8.5) = 8 (half to even).
        var resized = PilResize.Resize(image, 20, 33, ResizeFilter.AntialiasedLanczos, clip: (0, 1));
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    Assert.Equal((resized[c, y + 2, x + 8] - Preprocessing.ImageNetMean[c]) / Preprocessing.ImageNetStd[c], output[c, y, x], 1e-5);
    }

    [Fact]
    public void BilinearAnyDefectiveMasksKeepEveryPixelTheDefectReaches()
    {
        // 2×2 → 4×4 with the top-left pixel defective. OpenCV bilinear samples source (x + 0.5)/2 − 0.5 = −0.25, 0.25,
        // 0.75, 1.25 (clamped to the border): outputs 0–2 get weight from source 0, output 3 none. So a 3×3 block is
        // defective, where nearest gives 2×2.
        var mask = new BinaryMask(2, 2);
        mask[0, 0] = true;
        var any = new Preprocessing(4, 4) { MaskResize = MaskResize.BilinearAnyDefective }.ApplyToMask(mask);
        var nearest = new Preprocessing(4, 4).ApplyToMask(mask);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                Assert.Equal(y < 3 && x < 3, any[y, x]);
                Assert.Equal(y < 2 && x < 2, nearest[y, x]);
            }
    }

    [Fact]
    public void MaskCropFollowsTheImageCrop()
    {
        // One defective column at x = 29 of a 30×50 mask: 20×33 after the resize (centre sampling maps output column
        // x to source floor((x + 0.5) · 50 / 33), so column 19 (source 29) is the only defective one), 16×16 after the crop at (2, 8).
        var mask = new BinaryMask(30, 50);
        for (int y = 0; y < 30; y++) mask[y, 29] = true;
        var preprocessing = Preprocessing.ShortSide(20, 16, ResizeFilter.AntialiasedBilinear, MaskResize.CentredNearest);
        var result = preprocessing.ApplyToMask(mask);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                Assert.Equal(x == 19 - 8, result[y, x]);
    }

    [Fact]
    public void FullyDefectiveMasksShrinkWhereTheFilterReachesNormalPixels()
    {
        // A 4-pixel-wide defective band halved with the stretched triangle (support 2 source pixels each side):
        // only output pixels whose whole support lies inside the band stay defective, PatchCore's astype(int) rule.
        var mask = new BinaryMask(1, 16);
        for (int x = 4; x < 8; x++) mask[0, x] = true;
        var filtered = new Preprocessing(1, 8) { Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.FilteredFullyDefective }.ApplyToMask(mask);
        var nearest = new Preprocessing(1, 8) { MaskResize = MaskResize.CentredNearest }.ApplyToMask(mask);
        // Output 2 has centre 5 and support (3, 7): source pixels 3..6, of which 3 is normal → not fully defective.
        Assert.Equal([false, false, false, false, false, false, false, false], filtered.Data);
        Assert.Equal([false, false, true, true, false, false, false, false], nearest.Data);
        var wide = new BinaryMask(1, 16);
        for (int x = 2; x < 10; x++) wide[0, x] = true;
        var wideFiltered = new Preprocessing(1, 8) { Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.FilteredFullyDefective }.ApplyToMask(wide);
        // Outputs 2 and 3 (sources 3..6 and 5..8) lie inside 2..9; outputs 1 and 4 reach normal pixel 1 or 10 with
        // weight 0.125, so they come out at 0.875 < 254.5/255.
        Assert.Equal([false, false, true, true, false, false, false, false], wideFiltered.Data);
    }

    [Fact]
    public void TheDefaultsAreVigilsOriginalStretchWithOpenCv()
    {
        var image = Ramp(30, 50);
        var preprocessing = Preprocessing.ImageNet(20);
        Assert.Equal((ResizeMode.Stretch, ResizeFilter.Bilinear, MaskResize.Nearest), (preprocessing.Mode, preprocessing.Filter, preprocessing.MaskResize));
        var opencv = ImageOps.Resize(image, 20, 20);
        var output = preprocessing.Apply(image);
        Assert.Equal((opencv[1, 7, 9] - Preprocessing.ImageNetMean[1]) / Preprocessing.ImageNetStd[1], output[1, 7, 9], 1e-5);
    }

    [Fact]
    public void ShortSideNeedsOneSizeAndACrop()
    {
        Assert.Throws<ArgumentException>(() => new Preprocessing(256, 256) { Mode = ResizeMode.ShortSide });
        Assert.Throws<ArgumentException>(() => new Preprocessing(256, 300, 224, 224) { Mode = ResizeMode.ShortSide });
    }
}
