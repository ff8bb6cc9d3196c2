using Vigil.Imaging;
using Vigil.Settings;

namespace Vigil.Tests.Settings;

public class AugmentationTests
{
    /// <summary>A 1-channel image from rows of values.</summary>
    private static ImageTensor Gray(float[,] rows)
    {
        int h = rows.GetLength(0), w = rows.GetLength(1);
        var image = new ImageTensor(1, h, w);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                image[0, y, x] = rows[y, x];
        return image;
    }

    private static void AssertPixels(float[,] expected, ImageTensor actual, int channel = 0)
    {
        Assert.Equal((expected.GetLength(0), expected.GetLength(1)), (actual.Height, actual.Width));
        for (int y = 0; y < actual.Height; y++)
            for (int x = 0; x < actual.Width; x++)
                Assert.True(Math.Abs(expected[y, x] - actual[channel, y, x]) < 1e-5, $"pixel ({y},{x}): expected {expected[y, x]}, got {actual[channel, y, x]}");
    }

    private static readonly float[,] Nine = { { .1f, .2f, .3f }, { .4f, .5f, .6f }, { .7f, .8f, .9f } };

    [Fact]
    public void QuarterTurnIsTheHandRotatedImage()
    {
        // Counter-clockwise as displayed: the right column becomes the top row.
        float[,] rotated = { { .3f, .6f, .9f }, { .2f, .5f, .8f }, { .1f, .4f, .7f } };
        AssertPixels(rotated, new Augmentation(1, RotationDegrees: 90).Apply(Gray(Nine)));
    }

    [Fact]
    public void QuarterTurnOfAnEvenSizedColourImageMovesEveryPixelAsNumpyRot90()
    {
        const int n = 4;
        var image = new ImageTensor(3, n, n);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = i / 48f;
        var rotated = new Augmentation(1, RotationDegrees: 90).Apply(image);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < n; r++)
                for (int col = 0; col < n; col++)
                    Assert.Equal(image[c, col, n - 1 - r], rotated[c, r, col], 5); // np.rot90: out[r][c] = in[c][n-1-r]
    }

    [Fact]
    public void FlipsReverseThePixels()
    {
        AssertPixels(new float[,] { { .3f, .2f, .1f }, { .6f, .5f, .4f }, { .9f, .8f, .7f } }, new Augmentation(1, FlipHorizontal: true).Apply(Gray(Nine)));
        AssertPixels(new float[,] { { .7f, .8f, .9f }, { .4f, .5f, .6f }, { .1f, .2f, .3f } }, new Augmentation(1, FlipVertical: true).Apply(Gray(Nine)));
        // Both flips are a half turn.
        AssertPixels(ToRows(new Augmentation(1, RotationDegrees: 180).Apply(Gray(Nine))),
            new Augmentation(1, FlipHorizontal: true, FlipVertical: true).Apply(Gray(Nine)));
    }

    private static float[,] ToRows(ImageTensor image)
    {
        var rows = new float[image.Height, image.Width];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                rows[y, x] = image[0, y, x];
        return rows;
    }

    [Fact]
    public void DefaultParametersGiveTheInput()
    {
        var image = new ImageTensor(3, 5, 7);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (i * 37 % 101) / 100f;
        Assert.Equal(image.Data, new Augmentation(1).Apply(image).Data);
        var mask = new BinaryMask(5, 7);
        mask[1, 2] = mask[4, 6] = true;
        Assert.Equal(mask.Data, new Augmentation(1).Apply(mask).Data);
    }

    [Fact]
    public void ShiftScaleAndPerspectiveMovePixelsWhereTheirDefinitionsSay()
    {
        // Shift right by one pixel (1/3 of the width): zeros come in from the left.
        AssertPixels(new float[,] { { 0, .1f, .2f }, { 0, .4f, .5f }, { 0, .7f, .8f } }, new Augmentation(1, TranslateX: 1.0 / 3).Apply(Gray(Nine)));
        // Half size about the centre (2, 2) of a 5×5 image: input (0,0) lands on (1,1), input (4,4) on (3,3).
        var five = new float[5, 5];
        five[0, 0] = 1; five[4, 4] = .5f; five[2, 2] = .25f;
        var scaled = new Augmentation(1, Scale: 0.5).Apply(Gray(five));
        Assert.Equal((1f, .5f, .25f, 0f), (scaled[0, 1, 1], scaled[0, 3, 3], scaled[0, 2, 2], scaled[0, 0, 0]));
        // Top-left corner moved 2 px right and 3 px down on a 10×10 image (the other corners stay).
        var ten = new float[10, 10];
        ten[0, 0] = 1;
        var warped = new Augmentation(1, Perspective: new PerspectiveCorners(0.2, 0.3, 0, 0, 0, 0, 0, 0)).Apply(Gray(ten));
        Assert.Equal(1f, warped[0, 3, 2], 4);
        Assert.Equal(0f, warped[0, 0, 0]);
    }

    [Fact]
    public void ColourJitterFollowsTorchvisionFormulas()
    {
        var image = new ImageTensor(3, 1, 2, [0.2f, 0.8f, 0.4f, 0.4f, 0.6f, 0.0f]); // pixels (R,G,B): (.2,.4,.6) and (.8,.4,0)
        float grey0 = 0.299f * .2f + 0.587f * .4f + 0.114f * .6f, grey1 = 0.299f * .8f + 0.587f * .4f;
        Assert.Equal([0.1f, 0.4f, 0.2f, 0.2f, 0.3f, 0f], new Augmentation(1, Brightness: 0.5).Apply(image).Data.Select(v => MathF.Round(v, 6)));
        Assert.Equal([0.4f, 1f, 0.8f, 0.8f, 1f, 0f], new Augmentation(1, Brightness: 2).Apply(image).Data.Select(v => MathF.Round(v, 6))); // clamped at 1
        float mean = (grey0 + grey1) / 2;
        Assert.All(new Augmentation(1, Contrast: 0).Apply(image).Data, v => Assert.Equal(mean, v, 5));
        var desaturated = new Augmentation(1, Saturation: 0).Apply(image);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(grey0, desaturated[c, 0, 0], 5);
            Assert.Equal(grey1, desaturated[c, 0, 1], 5);
        }
    }

    [Fact]
    public void MaskFollowsTheImageGeometry()
    {
        // The image is the mask drawn in white; after any warp, pixels that stay clearly white must be defective in the
        // warped mask and clearly black ones not (pixels on the blob's edge are blended by bilinear interpolation).
        const int h = 40, w = 48;
        var mask = new BinaryMask(h, w);
        for (int y = 8; y < 20; y++)
            for (int x = 5; x < 30; x++)
                mask[y, x] = true;
        var image = new ImageTensor(1, h, w, Array.ConvertAll(mask.Data, v => v ? 1f : 0f));
        var augmentation = new Augmentation(1, RotationDegrees: 33, Scale: 0.8, TranslateX: 0.1, TranslateY: -0.05, FlipHorizontal: true,
            Perspective: new PerspectiveCorners(0.05, 0.1, 0.02, 0, 0.1, 0.04, 0, 0.08));
        var warpedImage = augmentation.Apply(image);
        var warpedMask = augmentation.Apply(mask);
        int white = 0, black = 0;
        for (int i = 0; i < warpedMask.Data.Length; i++)
        {
            if (warpedImage.Data[i] > 0.99f) { Assert.True(warpedMask.Data[i], $"pixel {i} is white but not in the mask"); white++; }
            if (warpedImage.Data[i] < 0.01f) { Assert.False(warpedMask.Data[i], $"pixel {i} is black but in the mask"); black++; }
        }
        Assert.True(white > 100 && black > 1000, $"{white} white, {black} black pixels: the check must cover the blob and the background");
        Assert.NotEqual(mask.Data, warpedMask.Data);
    }

    [Fact]
    public void SameScheduleSeedSamePixels()
    {
        var image = new ImageTensor(3, 24, 32);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (i * 53 % 97) / 96f;
        var all = (AugmentationKinds)63;
        var a = AugmentationSchedule.Variant(all, 5, 6, 1234);
        var b = AugmentationSchedule.Variant(all, 5, 6, 1234);
        Assert.Equal(a, b);
        Assert.Equal(a.Apply(image).Data, b.Apply(image).Data);
        Assert.NotEqual(a, AugmentationSchedule.Variant(all, 5, 6, 1235));
    }
}
