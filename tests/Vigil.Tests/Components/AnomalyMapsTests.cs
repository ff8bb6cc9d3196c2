using Vigil.Components;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

public class AnomalyMapsTests
{
    [Fact]
    public void HotGridCellLandsAtItsImagePositionWithTheCropUndone()
    {
        // Network input: resize to 80×80, centre crop 64×64 (origin 8, 8); 8×8 grid of 8-pixel cells; image 160×160.
        var preprocessing = new Preprocessing(80, 80, 64, 64);
        var grid = new float[64];
        grid[2 * 8 + 5] = 1; // row 2, column 5: centre ((2 + ½)·8 − ½, (5 + ½)·8 − ½) = (19.5, 43.5) in the crop, (27.5, 51.5) in the frame
        using var scope = NewDisposeScope();
        var (map, view) = AnomalyMaps.ToImage(tensor(grid, 8, 8), preprocessing, 160, 160, sigma: 4);
        float max = view.Data.Max();
        Assert.Equal((64, 64), (view.Height, view.Width)); // the network's view: the crop
        Assert.Equal(max, map.Data.Max(), 1e-6f); // its peak lies inside the crop

        Assert.Equal((160, 160), (map.Height, map.Width));
        int peak = Array.IndexOf(map.Data, map.Data.Max());
        // Frame coordinate 27.5 → image (27.5 + ½)·2 − ½ = 55.5; likewise 51.5 → 103.5.
        Assert.InRange(peak / 160, 55, 56);
        Assert.InRange(peak % 160, 103, 104);
        Assert.True(max > 0 && max < 1, "smoothing spreads the single hot cell");
        // The cropped-away border was never seen: it holds the map's minimum.
        Assert.Equal(map.Data.Min(), map[2, 2]);
        Assert.Equal(map.Data.Min(), map[157, 80]);
    }

    [Fact]
    public void ShortSideFrameKeepsTheImagesAspectRatio()
    {
        // Image 100×200, short side to 40 → frame 40×80, centre crop 32×32 at origin (4, 24); 4×4 grid of 8-pixel cells.
        var preprocessing = Preprocessing.ShortSide(40, 32, ResizeFilter.AntialiasedBilinear, MaskResize.CentredNearest);
        var grid = new float[16];
        grid[1 * 4 + 2] = 1; // centre (11.5, 19.5) in the crop, (15.5, 43.5) in the frame
        using var scope = NewDisposeScope();
        var (map, _) = AnomalyMaps.ToImage(tensor(grid, 4, 4), preprocessing, 100, 200, sigma: 2);

        int peak = Array.IndexOf(map.Data, map.Data.Max());
        // Frame 40×80 → image 100×200, scale 2.5 both ways: (15.5 + ½)·2.5 − ½ = 39.5, (43.5 + ½)·2.5 − ½ = 109.5.
        Assert.InRange(peak / 200, 38, 41);
        Assert.InRange(peak % 200, 108, 111);
        Assert.Equal(map.Data.Min(), map[50, 5]); // left of the crop: never seen
    }
}
