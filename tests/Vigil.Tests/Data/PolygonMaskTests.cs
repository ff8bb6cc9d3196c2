using Vigil.Data;

namespace Vigil.Tests.Data;

public class PolygonMaskTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    [Fact]
    public void SquareCoversExactlyThePixelsWhoseCentresItContains()
    {
        // x in [0.25, 0.75] of 8 px = edges 2..6 → columns 2,3,4,5; y in [0.25, 0.75] of 4 px = edges 1..3 → rows 1,2.
        var mask = new PolygonMask("l.txt", [[0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75]]).Load(4, 8);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 8; x++)
                Assert.Equal(y is >= 1 and <= 2 && x is >= 2 and <= 5, mask[y, x]);
    }

    [Fact]
    public void TriangleFillsTheLowerLeftHalfOfTheImage()
    {
        // Triangle (0,0)-(0,1)-(1,1) on 10x10: pixel centre (x+0.5, y+0.5) is inside when x < y; centres on the
        // diagonal (a right edge) are outside, so the triangle has (100 - 10) / 2 = 45 pixels, half the off-diagonal ones.
        var mask = new PolygonMask("l.txt", [[0, 0, 0, 1, 1, 1]]).Load(10, 10);
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                Assert.Equal(x < y, mask[y, x]);
        Assert.Equal(45, mask.CountDefective());
    }

    [Fact]
    public void YoloLabelWithTwoPolygonsRasterisesBoth()
    {
        var label = _tree.Text("000.txt", "0 0 0 0.2 0 0.2 0.2 0 0.2\n0 0.8 0.8 1 0.8 1 1 0.8 1\n");
        var mask = PolygonMask.ReadYolo(label)!.Load(10, 10);
        Assert.Equal(2, ((PolygonMask)PolygonMask.ReadYolo(label)!).Polygons.Count);
        Assert.True(mask[0, 0] && mask[1, 1] && mask[9, 9] && mask[8, 8]);
        Assert.Equal(8, mask.CountDefective()); // two 2x2 squares
    }

    [Fact]
    public void AdjacentPolygonsShareNoPixelAndTogetherTileTheImage()
    {
        // Left and right halves of a 7-pixel-wide image split at x = 3.5 px: the shared edge is crossed by no centre.
        var left = new PolygonMask("l", [[0, 0, 0.5, 0, 0.5, 1, 0, 1]]).Load(3, 7);
        var right = new PolygonMask("r", [[0.5, 0, 1, 0, 1, 1, 0.5, 1]]).Load(3, 7);
        Assert.Equal((9, 12), (left.CountDefective(), right.CountDefective()));
        Assert.All(Enumerable.Range(0, 21), i => Assert.True(left.Data[i] ^ right.Data[i]));
    }

    [Fact]
    public void EmptyLabelMeansNoDefect() => Assert.Null(PolygonMask.ReadYolo(_tree.Text("n.txt", "")));

    [Theory]
    [InlineData("0 0.1 0.1 0.2 0.2\n", "at least 3")]
    [InlineData("0 0.1 0.1 0.2 0.2 0.3 abc\n", "'abc' is not a number")]
    [InlineData("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4\n", "at least 3")]
    [InlineData("0 10 10 200 10 200 200\n", "outside [0, 1]")]
    public void MalformedLabelLineIsAnErrorNamingFileAndLine(string content, string expected)
    {
        var label = _tree.Text("bad.txt", "\n" + content);
        var e = Assert.Throws<VigilInputException>(() => PolygonMask.ReadYolo(label));
        Assert.Contains($"'{label}' line 2", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
