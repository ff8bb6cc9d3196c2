using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Tests.Data;

/// <summary>A tile sample loads its region of the (augmented) image and mask, and is named apart from the whole image.</summary>
public class SampleTileTests : IDisposable
{
    private const int H = 6, W = 8;
    private readonly TempTree _tree = new();
    private readonly string _image, _mask;

    public SampleTileTests()
    {
        // Grey value 10·y + x at (y, x); the mask marks (2, 5) and (4, 1).
        var image = new ImageTensor(1, H, W, Enumerable.Range(0, H * W).Select(i => (10 * (i / W) + i % W) / 255f).ToArray());
        _image = _tree.Path("a.png");
        ImageIO.Write(image, _image);
        var mask = new BinaryMask(H, W);
        mask[2, 5] = mask[4, 1] = true;
        _mask = _tree.Path("a_mask.png");
        ImageIO.WriteMask(mask, _mask);
    }

    public void Dispose() => _tree.Dispose();

    private Sample Whole => new(_image, SampleLabel.Anomalous, "crack", "folder", "x", new MaskFile(_mask));

    [Fact]
    public void TileLoadsItsRegionOfImageAndMask()
    {
        var tile = Whole with { Tile = new PixelRegion(2, 4, 3, 2) }; // rows 2–4, columns 4–5
        var (image, mask) = tile.Load();
        Assert.Equal((3, 3, 2), (image.Channels, image.Height, image.Width));
        Assert.Equal([24f, 25f, 34f, 35f, 44f, 45f], image.Plane(0).ToArray().Select(v => MathF.Round(v * 255)));
        Assert.Equal([false, true, false, false, false, false], mask.Data); // (2, 5) is the tile's (0, 1); (4, 1) is outside
        Assert.Equal(image.Data, tile.LoadImage().Data);
        Assert.Equal(mask.Data, tile.LoadMask(3, 2).Data);
        Assert.Throws<ArgumentException>(() => tile.LoadMask(H, W)); // the tile's size is asked for, not the image's
        Assert.Equal($"{_image}@2x3+4+2", tile.Id);
        Assert.NotEqual(Whole, tile);
    }

    [Fact]
    public void TileOfAnAugmentedVariantIsCutAfterTheAugmentation()
    {
        var flipped = Whole with { Augmentation = new Augmentation(1, FlipHorizontal: true), Tile = new PixelRegion(4, 0, 2, 2) };
        var (image, mask) = flipped.Load();
        // Flipped left–right, column x shows column 7 − x: rows 4–5, columns 0–1 show columns 7 and 6.
        Assert.Equal([47f, 46f, 57f, 56f], image.Plane(0).ToArray().Select(v => MathF.Round(v * 255)));
        Assert.Equal([false, false, false, false], mask.Data); // (4, 1) moved to (4, 6)
        Assert.Equal($"{_image}#1@2x2+0+4", flipped.Id);
    }

    [Fact]
    public void TileOutsideItsImageIsNamed()
    {
        var outside = Whole with { Tile = new PixelRegion(5, 0, 2, 2) };
        var error = Assert.Throws<VigilInputException>(() => outside.LoadImage());
        Assert.Contains(_image, error.Message);
        Assert.Contains("does not fit its 8x6 image", error.Message);
    }
}
