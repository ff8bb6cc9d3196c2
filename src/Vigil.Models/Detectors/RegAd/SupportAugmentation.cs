using static TorchSharp.torch;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// The official test's augmentation of the support set (train.py test(), utils/funcs.py): beside each image, its
/// rotations by ±π/16, ±π/8, ±3π/16, ±π/4 and its translations by (±0.2, ±0.2) and (±0.1, ±0.1) of the half-size
/// (F.affine_grid/F.grid_sample, bilinear, reflection padding), its horizontal flip, its grey copy (ITU-R 601 weights,
/// kornia's rgb_to_grayscale) and its rotations by 90°, 180° and 270°: 22 images per support image.
/// </summary>
public static class SupportAugmentation
{
    /// <summary>Images each support image becomes (itself included).</summary>
    public const int Copies = 22;

    private static readonly double[] Angles = [-Math.PI / 4, -3 * Math.PI / 16, -Math.PI / 8, -Math.PI / 16, Math.PI / 16, Math.PI / 8, 3 * Math.PI / 16, Math.PI / 4];
    private static readonly (double X, double Y)[] Shifts = [(0.2, 0.2), (-0.2, 0.2), (-0.2, -0.2), (0.2, -0.2), (0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1), (0.1, -0.1)];

    /// <summary>
    /// The augmented set of RGB images [N, 3, H, W] with values in [0, 1]: [22·N, 3, H, W], the images first, then each
    /// augmentation of all of them in the official order (which the Gaussians do not depend on).
    /// </summary>
    public static Tensor Apply(Tensor images)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor> { images };
        foreach (double angle in Angles) parts.Add(Affine(images, Math.Cos(angle), -Math.Sin(angle), 0, Math.Sin(angle), Math.Cos(angle), 0));
        foreach (var (x, y) in Shifts) parts.Add(Affine(images, 1, 0, x, 0, 1, y));
        parts.Add(images.flip(3));
        parts.Add(Grey(images));
        // kornia's rotate by 90°, 180°, 270° (reflection padding); with the exact matrices a square image's pixels map onto pixels.
        parts.Add(Affine(images, 0, -1, 0, 1, 0, 0));
        parts.Add(Affine(images, -1, 0, 0, 0, -1, 0));
        parts.Add(Affine(images, 0, 1, 0, -1, 0, 0));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>kornia.color.rgb_to_grayscale (0.299 R + 0.587 G + 0.114 B) repeated over the three channels.</summary>
    public static Tensor Grey(Tensor images) =>
        (images[.., 0..1] * 0.299 + images[.., 1..2] * 0.587 + images[.., 2..3] * 0.114).repeat(1, 3, 1, 1);

    /// <summary>Every image resampled at the affine matrix [[a, b, tx], [c, d, ty]] in normalised coordinates.</summary>
    private static Tensor Affine(Tensor images, double a, double b, double tx, double c, double d, double ty)
    {
        var theta = tensor(new[] { (float)a, (float)b, (float)tx, (float)c, (float)d, (float)ty }).reshape(1, 2, 3).expand(images.shape[0], 2, 3);
        return SpatialTransformer.Resample(images, theta);
    }
}
