using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Data.Synthetic;

/// <summary>
/// CutPaste anomalies (Li et al., CVPR 2021) on real images: a rectangle of the image (2–15 % of its area, aspect
/// ratio log-uniform in [0.3, 1/0.3]) is cut, colour-jittered and pasted elsewhere. Used to give a validation set
/// anomalies when only normal images may be used (thresholds are then never fitted on test images).
/// </summary>
public static class CutPaste
{
    /// <summary>The image with one pasted patch, and the patch's footprint as mask; the same seed gives the same result.</summary>
    public static (ImageTensor Image, BinaryMask Mask) Apply(ImageTensor image, ulong seed)
    {
        var rng = new SeededRandom(seed);
        int h = image.Height, w = image.Width;
        double area = rng.Uniform(0.02, 0.15) * h * w;
        double aspect = Math.Exp(rng.Uniform(Math.Log(0.3), Math.Log(1 / 0.3)));
        int patchW = Math.Clamp((int)Math.Round(Math.Sqrt(area * aspect)), 1, w);
        int patchH = Math.Clamp((int)Math.Round(Math.Sqrt(area / aspect)), 1, h);
        int fromX = (int)rng.Uniform(0, w - patchW + 1), fromY = (int)rng.Uniform(0, h - patchH + 1);
        int toX = (int)rng.Uniform(0, w - patchW + 1), toY = (int)rng.Uniform(0, h - patchH + 1);
        // Jitter strengths as the CutPaste paper's ColorJitter(0.1, 0.1, 0.1): brightness and contrast factors in [0.9, 1.1], plus a per-channel shift.
        double brightness = rng.Uniform(0.9, 1.1), contrast = rng.Uniform(0.9, 1.1);
        var shift = Enumerable.Range(0, image.Channels).Select(_ => rng.Uniform(-0.1, 0.1)).ToArray();

        var result = new ImageTensor(image.Channels, h, w, (float[])image.Data.Clone());
        var mask = new BinaryMask(h, w);
        for (int c = 0; c < image.Channels; c++)
        {
            double mean = 0;
            for (int y = 0; y < patchH; y++)
                for (int x = 0; x < patchW; x++) mean += image[c, fromY + y, fromX + x];
            mean /= patchH * patchW;
            for (int y = 0; y < patchH; y++)
                for (int x = 0; x < patchW; x++)
                {
                    double v = (image[c, fromY + y, fromX + x] - mean) * contrast + mean;
                    result[c, toY + y, toX + x] = (float)Math.Clamp(v * brightness + shift[c], 0, 1);
                }
        }
        for (int y = 0; y < patchH; y++)
            for (int x = 0; x < patchW; x++) mask[toY + y, toX + x] = true;
        return (result, mask);
    }
}
