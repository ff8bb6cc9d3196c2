using Vigil.Data;
using Vigil.Imaging;
using Vigil.Randomness;

namespace Vigil.Settings;

/// <summary>
/// IM-IAD's few-shot setting: training keeps a seeded draw of k normal training images (all of them if there are fewer),
/// each optionally followed by m augmented variants (<see cref="AugmentationSchedule"/>), so training has
/// k × (1 + m) images; the test set is unchanged. IM-IAD found rotation the most useful augmentation.
/// </summary>
/// <param name="Shots">k, normal training images kept (IM-IAD uses 1, 2, 4, 8).</param>
/// <param name="Variants">m, augmented variants per kept image (0: none).</param>
/// <param name="Augmentations">The kinds the variants combine; required when m &gt; 0, not allowed when m = 0.</param>
public sealed record FewShot(int Shots = FewShot.DefaultShots, int Variants = 0, AugmentationKinds Augmentations = AugmentationKinds.None) : LearningSetting
{
    public const int DefaultShots = 8;
    public const int MaxVariants = 64;

    public int Shots { get; } = Shots >= 1 ? Shots
        : throw new VigilInputException($"Few-shot setting: k={Shots} is invalid; k is the number of normal training images kept and must be at least 1 (IM-IAD uses 1, 2, 4, 8).");

    public int Variants { get; } = Variants is >= 0 and <= MaxVariants ? Variants
        : throw new VigilInputException($"Few-shot setting: m={Variants} is invalid; m is the number of augmented variants per image, 0 to {MaxVariants}.");

    public AugmentationKinds Augmentations { get; } = (Variants > 0) == (Augmentations != AugmentationKinds.None) ? Augmentations
        : throw new VigilInputException(Variants > 0
            ? $"Few-shot setting: m={Variants} augmented variants need augmentation kinds, e.g. aug=rotation (any of {string.Join(", ", AugmentationSchedule.Names.Select(n => n.Name))}, joined with '+')."
            : $"Few-shot setting: aug={AugmentationSchedule.Format(Augmentations)} needs m ≥ 1 augmented variants per image, e.g. m=4.");

    public override string Name => Variants == 0 ? $"fewshot-{Shots}" : $"fewshot-{Shots}x{Variants}-{AugmentationSchedule.Format(Augmentations)}";
    public override string Spec => Variants == 0 ? $"fewshot:k={Shots}" : $"fewshot:k={Shots},m={Variants},aug={AugmentationSchedule.Format(Augmentations)}";

    /// <summary>Salt so the augmentation draws do not reuse the image draw's random stream (the same seed feeds both).</summary>
    private const ulong AugmentationStream = 0x5EED_A06_0000_0001UL;

    public override SettingSplit Apply(DatasetSplit split, int seed)
    {
        var normals = split.Train.Where(s => !s.IsAnomalous).ToList();
        int count = Math.Min(Shots, normals.Count);
        var kept = SeededDraw.Take(normals, count, seed);
        var rng = new SeededRandom((ulong)(uint)seed ^ AugmentationStream);
        var train = new List<Sample>();
        foreach (var sample in kept)
        {
            train.Add(sample);
            for (int v = 1; v <= Variants; v++)
                train.Add(sample with { Augmentation = AugmentationSchedule.Variant(Augmentations, v, Variants, rng.NextUInt64()) });
        }
        string summary = $"Kept {count} of {normals.Count} normal training images"
            + (Shots > normals.Count ? $" ({Shots} requested, only {normals.Count} available)" : "")
            + $": {SeededDraw.Ids(kept)}"
            + (Variants > 0 ? $"; each with {Counted.Of(Variants, "variant")} augmented by {AugmentationSchedule.Format(Augmentations)}, {train.Count} training images in all." : ".");
        return new SettingSplit(split with { Train = train }, new SettingNotes(Name, seed, summary, kept.Select(s => s.Id).ToList(),
            Shots > normals.Count, train.Count, split.Test.Count));
    }
}
