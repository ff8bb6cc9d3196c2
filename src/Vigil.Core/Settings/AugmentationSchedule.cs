using Vigil.Data;
using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Settings;

/// <summary>The kinds of augmentation a few-shot setting may combine (IM-IAD's fewshot_aug_type options).</summary>
[Flags]
public enum AugmentationKinds
{
    None = 0,
    Rotation = 1,
    Flip = 2,
    Scale = 4,
    Translate = 8,
    ColorJitter = 16,
    Perspective = 32,
}

/// <summary>
/// The parameters of the i-th of m augmented variants of an image, after IM-IAD's few-shot domain generation: strengths
/// grow linearly with i so the m variants spread over the range. Variant i of m (1 ≤ i ≤ m):
/// rotation 360·i/(m+1)°; scale 1 − 0.5·i/m; translation up to 0.5·i/m of the size in each direction (random sign and
/// amount); flip horizontal (i = 1), vertical (2), both (3), then each with probability ½; perspective corners moved
/// inwards by up to (0.5·i/m)/2 of the size (torchvision RandomPerspective(distortion_scale = 0.5·i/m)); colour jitter
/// factors for brightness, contrast and saturation drawn from [1 − s, 1 + s] with s = 0.5·i/m. IM-IAD's jitter
/// strengths run from 0.5 to 1.5, which allows factor 0 (a black image); the bounded ramp here keeps images usable.
/// </summary>
public static class AugmentationSchedule
{
    /// <summary>Spec names of the kinds, in canonical order ("color_jitter" and "colour" are accepted as aliases when parsing).</summary>
    public static IReadOnlyList<(AugmentationKinds Kind, string Name)> Names { get; } =
    [
        (AugmentationKinds.Rotation, "rotation"), (AugmentationKinds.Flip, "flip"), (AugmentationKinds.Scale, "scale"),
        (AugmentationKinds.Translate, "translate"), (AugmentationKinds.ColorJitter, "color"), (AugmentationKinds.Perspective, "perspective"),
    ];

    /// <summary>The kinds joined with '+', in canonical order, e.g. "rotation+flip".</summary>
    public static string Format(AugmentationKinds kinds) =>
        string.Join('+', Names.Where(n => kinds.HasFlag(n.Kind)).Select(n => n.Name));

    /// <summary>The kind of a name, or null if it is none.</summary>
    public static AugmentationKinds? ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "color_jitter" or "colour" or "colorjitter" => AugmentationKinds.ColorJitter,
        var n => Names.Where(k => k.Name == n).Select(k => (AugmentationKinds?)k.Kind).FirstOrDefault(),
    };

    /// <summary>Variant <paramref name="variant"/> of <paramref name="variants"/>; the seed fixes its random draws.</summary>
    public static Augmentation Variant(AugmentationKinds kinds, int variant, int variants, ulong seed)
    {
        if (variants < 1 || variant < 1 || variant > variants)
            throw new ArgumentOutOfRangeException(nameof(variant), $"Variant {variant} of {variants}: need 1 ≤ variant ≤ variants.");
        var rng = new SeededRandom(seed);
        double strength = 0.5 * variant / variants;
        var a = new Augmentation(variant);
        if (kinds.HasFlag(AugmentationKinds.Rotation))
            a = a with { RotationDegrees = 360.0 * variant / (variants + 1) };
        if (kinds.HasFlag(AugmentationKinds.Scale))
            a = a with { Scale = 1 - strength };
        if (kinds.HasFlag(AugmentationKinds.Translate))
            a = a with { TranslateX = rng.Uniform(-strength, strength), TranslateY = rng.Uniform(-strength, strength) };
        if (kinds.HasFlag(AugmentationKinds.Flip))
            a = variant switch
            {
                1 => a with { FlipHorizontal = true },
                2 => a with { FlipVertical = true },
                3 => a with { FlipHorizontal = true, FlipVertical = true },
                _ => a with { FlipHorizontal = rng.Uniform(0, 1) < 0.5, FlipVertical = rng.Uniform(0, 1) < 0.5 },
            };
        if (kinds.HasFlag(AugmentationKinds.Perspective))
        {
            double d = strength / 2;
            a = a with
            {
                Perspective = new PerspectiveCorners(rng.Uniform(0, d), rng.Uniform(0, d), rng.Uniform(0, d), rng.Uniform(0, d),
                    rng.Uniform(0, d), rng.Uniform(0, d), rng.Uniform(0, d), rng.Uniform(0, d)),
            };
        }
        if (kinds.HasFlag(AugmentationKinds.ColorJitter))
            a = a with
            {
                Brightness = rng.Uniform(1 - strength, 1 + strength),
                Contrast = rng.Uniform(1 - strength, 1 + strength),
                Saturation = rng.Uniform(1 - strength, 1 + strength),
            };
        return a;
    }
}
