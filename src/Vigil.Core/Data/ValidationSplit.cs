using Vigil.Randomness;

namespace Vigil.Data;

/// <summary>
/// Holds back part of the training images as a validation set for thresholds and score normalisation, so those are
/// never fitted on test images. Only normal original images are held back, and with them their augmented variants
/// leave training (few-shot), so no validation image is a copy of a training image. Anomalous training images
/// (supervised settings) are left where they are for the caller to place.
/// </summary>
public static class ValidationSplit
{
    /// <summary>
    /// Moves round(ratio · normal training images) images, at least <paramref name="minimum"/>, chosen by a seeded
    /// shuffle, to validation; at least one normal image stays in training. Ratio 0 holds nothing back.
    /// </summary>
    public static (IReadOnlyList<Sample> Train, IReadOnlyList<Sample> Validation) Take(IReadOnlyList<Sample> train, double ratio, int seed, int minimum = 1)
    {
        if (!(ratio >= 0 && ratio < 1))
            throw new VigilInputException($"Validation ratio {ratio} must be in [0, 1): it is the fraction of normal training images held back for thresholds (e.g. 0.1).");
        if (ratio == 0) return (train, []);
        var normals = train.Where(s => !s.IsAnomalous && s.Augmentation is null).OrderBy(s => s.SourcePath, StringComparer.Ordinal).ToArray();
        if (normals.Length < minimum + 1)
            throw new VigilInputException(
                $"Holding back {Counted.Of(minimum, "validation image")} and training on the rest needs at least {minimum + 1} normal training images; got {normals.Length}. " +
                "Add normal images, or use a validation ratio of 0 (no threshold).");
        SeededRandom.Shuffle(normals, (ulong)(uint)seed ^ 0x5641_4C49_4441_5445UL); // "VALIDATE": a stream apart from the train/test split's
        int count = Math.Clamp((int)Math.Round(ratio * normals.Length, MidpointRounding.AwayFromZero), Math.Max(1, minimum), normals.Length - 1);
        var held = normals[..count].ToHashSet();
        var heldFiles = held.Select(s => s.SourcePath).ToHashSet(StringComparer.Ordinal);
        return (train.Where(s => !heldFiles.Contains(s.SourcePath) || s.IsAnomalous).ToList(), train.Where(held.Contains).ToList());
    }
}
