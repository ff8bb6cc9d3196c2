using Vigil.Imaging;
using Vigil.Reporting;

namespace Vigil.Tests.Reporting;

/// <summary>Overlay thumbnails are 256 pixels high, except that a very wide strip is bounded by its width instead.</summary>
public class ThumbnailTests
{
    [Theory]
    [InlineData(512, 512, 256, 256)]    // scaled down to the overlay height
    [InlineData(100, 50, 256, 128)]     // scaled up to it (nearest neighbour)
    [InlineData(500, 1240, 256, 635)]   // KolektorSDD's aspect: 1240 · 256 / 500 = 634.9
    [InlineData(64, 4096, 16, 1024)]    // a line-scan strip: width bounded, 4096 / 1024 = 4 = 64 / 16
    [InlineData(1, 100000, 1, 1024)]
    public void ThumbnailsKeepTheAspectWithinTheOverlayBounds(int height, int width, int expectedHeight, int expectedWidth)
    {
        var image = new ImageTensor(3, height, width);
        Array.Fill(image.Data, 0.25f);
        var thumbnail = CellArtifacts.Thumbnail(image);
        Assert.Equal((3, expectedHeight, expectedWidth), (thumbnail.Channels, thumbnail.Height, thumbnail.Width));
        Assert.All(thumbnail.Data, v => Assert.Equal(0.25f, v, 5));
    }
}
