using Vigil.Imaging;

namespace Vigil.Tests.Imaging;

/// <summary>Tile grids written out by hand, full coverage, stitching by the mean of covering tiles, and bad options named.</summary>
public class TilingTests
{
    [Fact]
    public void TilesStartEveryStrideWithOneMoreFlushWithTheEdgeWhereNeeded()
    {
        var tiling = new Tiling(256, 224);
        // 2048 = 1792 + 256: starts 0, 224, ..., 1792 fit exactly, no extra tile.
        var square = tiling.Regions(2048, 2048);
        Assert.Equal(81, square.Count);
        Assert.Equal([0, 224, 448, 672, 896, 1120, 1344, 1568, 1792], square.Take(9).Select(r => r.Left));
        Assert.All(square, r => Assert.Equal((256, 256), (r.Height, r.Width)));

        // KolektorSDD's 500 × 1250 (width × height): rows 0 … 896 and 994 (= 1250 − 256), columns 0, 224 and 244 (= 500 − 256).
        var ksdd = tiling.Regions(1250, 500);
        Assert.Equal([0, 224, 448, 672, 896, 994], ksdd.Select(r => r.Top).Distinct());
        Assert.Equal([0, 224, 244], ksdd.Select(r => r.Left).Distinct());
        Assert.Equal(new PixelRegion(994, 244, 256, 256), ksdd[^1]);

        // An axis no longer than a tile has one tile of its own extent.
        Assert.Equal([new PixelRegion(0, 0, 100, 256), new PixelRegion(0, 44, 100, 256)], tiling.Regions(100, 300));
        Assert.Equal([new PixelRegion(0, 0, 256, 256)], tiling.Regions(256, 256));
        Assert.Equal([new PixelRegion(0, 0, 40, 50)], tiling.Regions(40, 50));
    }

    [Theory]
    [InlineData(256, 224, 1250, 500)]
    [InlineData(64, 64, 300, 129)]
    [InlineData(64, 1, 70, 66)]
    [InlineData(100, 37, 512, 333)]
    public void EveryPixelLiesInATileAndNoTileLeavesTheImage(int size, int stride, int height, int width)
    {
        var regions = new Tiling(size, stride).Regions(height, width);
        var covered = new bool[height, width];
        foreach (var r in regions)
        {
            Assert.True(r.Top >= 0 && r.Left >= 0 && r.Top + r.Height <= height && r.Left + r.Width <= width, r.ToString());
            Assert.Equal((Math.Min(size, height), Math.Min(size, width)), (r.Height, r.Width));
            for (int y = r.Top; y < r.Top + r.Height; y++)
                for (int x = r.Left; x < r.Left + r.Width; x++) covered[y, x] = true;
        }
        Assert.All(covered.Cast<bool>(), Assert.True);
        // Neighbouring starts are at most one stride apart.
        var tops = regions.Select(r => r.Top).Distinct().ToList();
        Assert.All(tops.Zip(tops.Skip(1)), p => Assert.InRange(p.Second - p.First, 1, stride));
    }

    [Fact]
    public void StitchingAveragesTheTilesThatCoverEachPixel()
    {
        // 1 × 5 image, three tiles of width 3 at columns 0, 1 and 2 holding constant 1, 4 and 10.
        var regions = new[] { new PixelRegion(0, 0, 1, 3), new PixelRegion(0, 1, 1, 3), new PixelRegion(0, 2, 1, 3) };
        var maps = new[] { Constant(1, 3, 1), Constant(1, 3, 4), Constant(1, 3, 10) };
        var stitched = Tiling.Stitch(maps, regions, 1, 5);
        Assert.Equal([1f, (1 + 4) / 2f, (1 + 4 + 10) / 3f, (4 + 10) / 2f, 10f], stitched.Data);

        // Values keep their place inside a tile (row-major, offset by the tile's corner); the 2 × 2 tile's pixels are
        // also covered by the zero tile, so they hold half their value.
        var map = new ScoreMap(2, 2, [1, 2, 3, 4]);
        Assert.Equal([0f, 0f, 0f, 0f, 0.5f, 1f, 0f, 1.5f, 2f],
            Tiling.Stitch([Constant(3, 3, 0), map], [new PixelRegion(0, 0, 3, 3), new PixelRegion(1, 1, 2, 2)], 3, 3).Data);

        Assert.Throws<ArgumentException>(() => Tiling.Stitch([Constant(1, 3, 0)], [new PixelRegion(0, 0, 1, 3)], 1, 5)); // pixels 3, 4 uncovered
        Assert.Throws<ArgumentException>(() => Tiling.Stitch([Constant(1, 2, 0)], [new PixelRegion(0, 0, 1, 3)], 1, 3)); // map ≠ tile size
    }

    [Fact]
    public void BadOptionsAreNamedAndLabelsNameTheTiling()
    {
        Assert.Contains("stride 300 must be between 1 and the tile size 256", Assert.Throws<VigilInputException>(() => new Tiling(256, 300)).Message);
        Assert.Contains("stride 0", Assert.Throws<VigilInputException>(() => new Tiling(256, 0)).Message);
        Assert.Contains("at least 32", Assert.Throws<VigilInputException>(() => new Tiling(16, 8)).Message);
        Assert.Equal("tile=256/224", new Tiling(256, 224).Label);
        Assert.Equal("tile=512/512,max-tile", new Tiling(512, 512, TileScore.MaxTile).Label);
    }

    [Fact]
    public void CropsTakeTheRegionsPixels()
    {
        var image = new ImageTensor(2, 3, 4, Enumerable.Range(0, 24).Select(i => (float)i).ToArray());
        var crop = ImageOps.Crop(image, new PixelRegion(1, 2, 2, 2));
        Assert.Equal([6f, 7f, 10f, 11f, 18f, 19f, 22f, 23f], crop.Data);
        var mask = new BinaryMask(3, 4, Enumerable.Range(0, 12).Select(i => i % 5 == 0).ToArray());
        Assert.Equal([false, true, false, false], ImageOps.Crop(mask, new PixelRegion(1, 0, 2, 2)).Data); // pixels 4, 5, 8, 9
        Assert.Throws<ArgumentException>(() => ImageOps.Crop(image, new PixelRegion(2, 0, 2, 2)));
    }

    private static ScoreMap Constant(int height, int width, float value) => new(height, width, Enumerable.Repeat(value, height * width).ToArray());
}
