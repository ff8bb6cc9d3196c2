using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// CutPaste anomalies (Li et al., CVPR 2021) on real images: a rectangle of the image (2–15 % of its area, aspect
/// ratio log-uniform in [0.3, 1/0.3]) is cut, colour-jittered and pasted elsewhere (<see cref="Apply"/>, used to give a
/// validation set anomalies when only normal images may be used, so thresholds are never fitted on test images; and
/// <see cref="Patch"/>, the CutPaste detector's training view); and the CutPaste-scar, a thin rotated strip
/// (<see cref="Scar"/>).
/// </summary>
public static class CutPaste
{
    /// <summary>The image with one pasted patch, and the patch's footprint as mask; the same seed gives the same result.</summary>
    public static (ImageTensor Image, BinaryMask Mask) Apply(ImageTensor image, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var box = PatchBox(rng, image.Height, image.Width, 0.02, 0.15, 0.3);
        // Jitter strengths as the CutPaste paper's ColorJitter(0.1, 0.1, 0.1): brightness and contrast factors in [0.9, 1.1], plus a per-channel shift.
        double brightness = rng.Uniform(0.9, 1.1), contrast = rng.Uniform(0.9, 1.1);
        var shift = Enumerable.Range(0, image.Channels).Select(_ => rng.Uniform(-0.1, 0.1)).ToArray();

        var result = new ImageTensor(image.Channels, image.Height, image.Width, (float[])image.Data.Clone());
        for (int c = 0; c < image.Channels; c++)
        {
            double mean = 0;
            for (int y = 0; y < box.Height; y++)
                for (int x = 0; x < box.Width; x++) mean += image[c, box.FromY + y, box.FromX + x];
            mean /= box.Height * box.Width;
            for (int y = 0; y < box.Height; y++)
                for (int x = 0; x < box.Width; x++)
                {
                    double v = (image[c, box.FromY + y, box.FromX + x] - mean) * contrast + mean;
                    result[c, box.ToY + y, box.ToX + x] = (float)Math.Clamp(v * brightness + shift[c], 0, 1);
                }
        }
        return (result, Footprint(image.Height, image.Width, box));
    }

    /// <summary>
    /// The CutPaste training view (CutPasteNormal of the reference): <see cref="Apply"/>'s rectangle, cut, jittered by
    /// torchvision's <c>ColorJitter(j, j, j, j)</c> (<paramref name="jitter"/>, 0.1 in the paper) and pasted; with its
    /// footprint as mask. Its area is a share uniform in [<paramref name="area"/>] (default [0.02, 0.15]) of the image's,
    /// its aspect ratio log-uniform in [<paramref name="aspect"/>, 1/<paramref name="aspect"/>]. The same seed gives the same result.
    /// </summary>
    public static (ImageTensor Image, BinaryMask Mask) Patch(ImageTensor image, ulong seed, double jitter = 0.1,
        (double Min, double Max)? area = null, double aspect = 0.3)
    {
        var (areaMin, areaMax) = area ?? (0.02, 0.15);
        var rng = new SeededRandom(seed);
        var box = PatchBox(rng, image.Height, image.Width, areaMin, areaMax, aspect);
        var patch = ColorJitter.Draw(rng, jitter).Apply(Crop(image, box.FromY, box.FromX, box.Height, box.Width));
        var result = new ImageTensor(image.Channels, image.Height, image.Width, (float[])image.Data.Clone());
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < box.Height; y++)
                for (int x = 0; x < box.Width; x++) result[c, box.ToY + y, box.ToX + x] = patch[c, y, x];
        return (result, Footprint(image.Height, image.Width, box));
    }

    /// <summary>
    /// The CutPaste-scar (CutPasteScar of the reference code): a strip of width uniform in [<paramref name="width"/>]
    /// and height uniform in [<paramref name="height"/>] pixels (rounded, as PIL's crop rounds its box) is cut at a
    /// uniform position, colour-jittered like <see cref="Patch"/>, rotated counter-clockwise by an angle uniform in
    /// [<paramref name="rotation"/>] degrees about its centre (nearest neighbour, on a canvas enlarged to hold it, as PIL's
    /// rotate(expand=True)), and pasted at a uniform position where the canvas fits; only the rotated strip's own pixels
    /// are pasted. Returns the image and the pasted pixels as mask; the same seed gives the same result.
    /// </summary>
    public static (ImageTensor Image, BinaryMask Mask) Scar(ImageTensor image, ulong seed, double jitter = 0.1,
        (double Min, double Max)? width = null, (double Min, double Max)? height = null, (double Min, double Max)? rotation = null)
    {
        var (wMin, wMax) = width ?? (2, 16);
        var (hMin, hMax) = height ?? (10, 25);
        var (rMin, rMax) = rotation ?? (-45, 45);
        var rng = new SeededRandom(seed);
        int h = image.Height, w = image.Width;
        double cutW = rng.Uniform(wMin, wMax), cutH = rng.Uniform(hMin, hMax);
        int patchW = Math.Clamp((int)Math.Round(cutW), 1, w), patchH = Math.Clamp((int)Math.Round(cutH), 1, h);
        int fromX = (int)rng.Uniform(0, w - patchW), fromY = (int)rng.Uniform(0, h - patchH);
        var patch = ColorJitter.Draw(rng, jitter).Apply(Crop(image, fromY, fromX, patchH, patchW));
        double angle = rng.Uniform(rMin, rMax) * Math.PI / 180, cos = Math.Cos(angle), sin = Math.Sin(angle);
        // The canvas holding the rotated strip: the bounding box of its corners.
        int canvasW = Math.Max(1, (int)Math.Ceiling(patchW * Math.Abs(cos) + patchH * Math.Abs(sin) - 1e-9));
        int canvasH = Math.Max(1, (int)Math.Ceiling(patchW * Math.Abs(sin) + patchH * Math.Abs(cos) - 1e-9));
        int toX = (int)rng.Uniform(0, Math.Max(0, w - canvasW)), toY = (int)rng.Uniform(0, Math.Max(0, h - canvasH));

        var result = new ImageTensor(image.Channels, h, w, (float[])image.Data.Clone());
        var mask = new BinaryMask(h, w);
        for (int y = 0; y < canvasH; y++)
            for (int x = 0; x < canvasW; x++)
            {
                // The canvas pixel's centre, relative to the canvas centre, rotated back into the strip (y points down,
                // so a counter-clockwise turn on screen maps (u, v) to (u·cos + v·sin, −u·sin + v·cos)).
                double u = x + 0.5 - canvasW / 2.0, v = y + 0.5 - canvasH / 2.0;
                int sx = (int)Math.Floor(u * cos - v * sin + patchW / 2.0), sy = (int)Math.Floor(u * sin + v * cos + patchH / 2.0);
                int tx = toX + x, ty = toY + y;
                if (sx < 0 || sx >= patchW || sy < 0 || sy >= patchH || tx >= w || ty >= h) continue;
                for (int c = 0; c < image.Channels; c++) result[c, ty, tx] = patch[c, sy, sx];
                mask[ty, tx] = true;
            }
        return (result, mask);
    }

    private readonly record struct Box(int Height, int Width, int FromY, int FromX, int ToY, int ToX);

    /// <summary>The CutPaste rectangle: area share uniform, aspect ratio log-uniform, source and target positions uniform.</summary>
    private static Box PatchBox(SeededRandom rng, int h, int w, double areaMin, double areaMax, double aspectMin)
    {
        double area = rng.Uniform(areaMin, areaMax) * h * w;
        double aspect = Math.Exp(rng.Uniform(Math.Log(aspectMin), Math.Log(1 / aspectMin)));
        int patchW = Math.Clamp((int)Math.Round(Math.Sqrt(area * aspect)), 1, w);
        int patchH = Math.Clamp((int)Math.Round(Math.Sqrt(area / aspect)), 1, h);
        int fromX = (int)rng.Uniform(0, w - patchW + 1), fromY = (int)rng.Uniform(0, h - patchH + 1);
        int toX = (int)rng.Uniform(0, w - patchW + 1), toY = (int)rng.Uniform(0, h - patchH + 1);
        return new Box(patchH, patchW, fromY, fromX, toY, toX);
    }

    private static ImageTensor Crop(ImageTensor image, int fromY, int fromX, int height, int width)
    {
        var crop = new ImageTensor(image.Channels, height, width);
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) crop[c, y, x] = image[c, fromY + y, fromX + x];
        return crop;
    }

    private static BinaryMask Footprint(int h, int w, Box box)
    {
        var mask = new BinaryMask(h, w);
        for (int y = 0; y < box.Height; y++)
            for (int x = 0; x < box.Width; x++) mask[box.ToY + y, box.ToX + x] = true;
        return mask;
    }
}
