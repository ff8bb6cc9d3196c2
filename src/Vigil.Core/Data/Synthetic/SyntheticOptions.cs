namespace Vigil.Data.Synthetic;

/// <summary>
/// What <see cref="SyntheticDataset.Generate"/> writes. The defaults make a small dataset (3 categories × 110 images
/// of 256×256) that generates in a few seconds.
/// </summary>
public sealed record SyntheticOptions
{
    /// <summary>Width and height of every image, in pixels (32–2048). Defect sizes scale with it.</summary>
    public int ImageSize { get; init; } = 256;

    /// <summary>Normal training images per category (train/good).</summary>
    public int TrainGoodCount { get; init; } = 60;

    /// <summary>Normal test images per category (test/good).</summary>
    public int TestGoodCount { get; init; } = 20;

    /// <summary>Defective test images per defect type (test/&lt;defect&gt;).</summary>
    public int TestDefectCount { get; init; } = 10;

    /// <summary>Seed of every random choice; the same seed gives byte-identical files.</summary>
    public int Seed { get; init; }

    /// <summary>Categories to generate; null means all of <see cref="SyntheticDataset.Categories"/>.</summary>
    public IReadOnlyList<string>? Categories { get; init; }
}
