using Vigil.Data.Synthetic;
using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Tests.Data.Synthetic;

/// <summary>
/// The CutPaste detector's training views: the CutPaste patch (<see cref="CutPaste.Patch"/>) and the scar
/// (<see cref="CutPaste.Scar"/>), checked against the reference's sampling ranges through what the pasted region
/// measures (its area, sides and orientation), not through the drawn numbers.
/// </summary>
public sealed class CutPasteAugmentationTests
{
    /// <summary>A 64 × 64 RGB image of independent uniform values, so any moved pixel shows.</summary>
    private static ImageTensor Noise(int size = 64, ulong seed = 5)
    {
        var random = new SeededRandom(seed);
        var data = new float[3 * size * size];
        for (int i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        return new ImageTensor(3, size, size, data);
    }

    private static void ChangesOnlyInside(ImageTensor image, ImageTensor result, BinaryMask mask)
    {
        Assert.True(mask.CountDefective() > 0);
        bool changedInside = false;
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                {
                    if (!mask[y, x]) Assert.Equal(image[c, y, x], result[c, y, x]);
                    else changedInside |= image[c, y, x] != result[c, y, x];
                }
        Assert.True(changedInside);
    }

    [Fact]
    public void ScarIsSeededAndChangesOnlyTheStripItReports()
    {
        var image = Noise();
        for (ulong seed = 0; seed < 20; seed++)
        {
            var (scarred, mask) = CutPaste.Scar(image, seed);
            ChangesOnlyInside(image, scarred, mask);
            var again = CutPaste.Scar(image, seed);
            Assert.Equal(scarred.Data, again.Image.Data);
            Assert.Equal(mask.Data, again.Mask.Data);
        }
        Assert.NotEqual(CutPaste.Scar(image, 1).Mask.Data, CutPaste.Scar(image, 2).Mask.Data);
    }

    [Fact]
    public void UnrotatedScarIsAnAxisAlignedStripOfTheReferenceSizesCopiedFromTheImage()
    {
        // CutPasteScar: width uniform in [2, 16], height in [10, 25] (PIL's crop rounds the box); no rotation, no jitter:
        // the footprint is a full rectangle of those sizes holding a strip of the image itself.
        var image = Noise();
        for (ulong seed = 0; seed < 40; seed++)
        {
            var (scarred, mask) = CutPaste.Scar(image, seed, jitter: 0, rotation: (0, 0));
            var (top, left, height, width) = Bounds(mask);
            Assert.Equal(height * width, mask.CountDefective());
            Assert.InRange(width, 2, 16);
            Assert.InRange(height, 10, 25);
            Assert.True(ContainsCopy(image, scarred, top, left, height, width), $"seed {seed}: the strip is not a piece of the image");
        }
    }

    [Fact]
    public void RotatedScarsHaveTheReferenceSidesAndTurnAtMostFortyFiveDegrees()
    {
        // The footprint's second moments: a w × h rectangle has variances w²/12 and h²/12 along its axes, so the
        // eigenvalues of the pixel coordinates' covariance give its sides, and the major eigenvector its direction.
        var image = Noise();
        for (ulong seed = 0; seed < 200; seed++)
        {
            var mask = CutPaste.Scar(image, seed).Mask;
            var (minor, major, angleFromVertical) = Moments(mask);
            double shortSide = Math.Sqrt(12 * minor), longSide = Math.Sqrt(12 * major);
            // Short side ≤ min(16, 25) and long side ≥ max(2, 10); both within [2, 25]; 1.5 px for the nearest-neighbour rotation.
            Assert.InRange(shortSide, 2 - 1.5, 16 + 1.5);
            Assert.InRange(longSide, 10 - 1.5, 25 + 1.5);
            // A long side beyond the widest width (16) is the height: it leans at most 45° from the vertical.
            if (longSide > 18 && longSide > shortSide + 4) Assert.InRange(angleFromVertical, 0, 45 + 6);
        }
    }

    [Fact]
    public void PatchCoversTwoToFifteenPercentWithAnAspectRatioWithinTheReferenceRange()
    {
        var image = Noise();
        int pixels = image.Height * image.Width;
        for (ulong seed = 0; seed < 60; seed++)
        {
            var (pasted, mask) = CutPaste.Patch(image, seed);
            ChangesOnlyInside(image, pasted, mask);
            var (_, _, height, width) = Bounds(mask);
            Assert.Equal(height * width, mask.CountDefective());
            // The sides are √(area·aspect) and √(area/aspect) rounded, so the unrounded W ∈ [w ± 0.5], H ∈ [h ± 0.5] must
            // allow an area W·H of 2–15 % of the image and an aspect ratio W/H in [0.3, 1/0.3].
            Assert.InRange(0.02 * pixels, 0, (width + 0.5) * (height + 0.5));
            Assert.InRange(0.15 * pixels, (width - 0.5) * (height - 0.5), double.MaxValue);
            Assert.InRange((width - 0.5) / (height + 0.5), 0, 1 / 0.3);
            Assert.InRange((width + 0.5) / (height - 0.5), 0.3, double.MaxValue);
            Assert.Equal(pasted.Data, CutPaste.Patch(image, seed).Image.Data);
        }
    }

    private static (int Top, int Left, int Height, int Width) Bounds(BinaryMask mask)
    {
        int top = int.MaxValue, left = int.MaxValue, bottom = -1, right = -1;
        for (int y = 0; y < mask.Height; y++)
            for (int x = 0; x < mask.Width; x++)
                if (mask[y, x]) (top, left, bottom, right) = (Math.Min(top, y), Math.Min(left, x), Math.Max(bottom, y), Math.Max(right, x));
        return (top, left, bottom - top + 1, right - left + 1);
    }

    /// <summary>Whether the result's region equals some region of the same size of the original image (up to float rounding).</summary>
    private static bool ContainsCopy(ImageTensor image, ImageTensor result, int top, int left, int height, int width)
    {
        for (int fy = 0; fy + height <= image.Height; fy++)
            for (int fx = 0; fx + width <= image.Width; fx++)
            {
                bool same = true;
                for (int c = 0; c < 3 && same; c++)
                    for (int y = 0; y < height && same; y++)
                        for (int x = 0; x < width && same; x++)
                            same = Math.Abs(image[c, fy + y, fx + x] - result[c, top + y, left + x]) < 1e-5f;
                if (same) return true;
            }
        return false;
    }

    /// <summary>Eigenvalues (minor, major) of the footprint's coordinate covariance, and the major axis's angle from the vertical in degrees.</summary>
    private static (double Minor, double Major, double AngleFromVertical) Moments(BinaryMask mask)
    {
        var points = new List<(double Y, double X)>();
        for (int y = 0; y < mask.Height; y++)
            for (int x = 0; x < mask.Width; x++)
                if (mask[y, x]) points.Add((y, x));
        double my = points.Average(p => p.Y), mx = points.Average(p => p.X);
        double syy = points.Average(p => (p.Y - my) * (p.Y - my)), sxx = points.Average(p => (p.X - mx) * (p.X - mx));
        double sxy = points.Average(p => (p.X - mx) * (p.Y - my));
        double mean = (sxx + syy) / 2, spread = Math.Sqrt((sxx - syy) * (sxx - syy) / 4 + sxy * sxy);
        // A pixel is a unit square: its own variance 1/12 per axis is missing from the centres' covariance.
        double major = mean + spread + 1 / 12.0, minor = mean - spread + 1 / 12.0;
        double axisAngle = 0.5 * Math.Atan2(2 * sxy, sxx - syy); // the major axis's angle from the x axis
        double fromVertical = Math.Abs(90 - Math.Abs(axisAngle * 180 / Math.PI));
        return (minor, major, fromVertical);
    }
}
