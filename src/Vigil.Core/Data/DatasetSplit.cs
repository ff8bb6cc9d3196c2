namespace Vigil.Data;

/// <summary>The train and test samples of one category, as a loader or a setting produced them.</summary>
public sealed record DatasetSplit(string Dataset, string Category, IReadOnlyList<Sample> Train, IReadOnlyList<Sample> Test)
{
    /// <summary>
    /// Normal images a dataset sets apart for choosing thresholds and score normalisation (MVTec LOCO's
    /// <c>validation/good</c>): neither training nor test images. Empty for datasets without an official validation split.
    /// </summary>
    public IReadOnlyList<Sample> Validation { get; init; } = [];

    public int TestAnomalousCount => Test.Count(s => s.IsAnomalous);
    public int TestNormalCount => Test.Count(s => !s.IsAnomalous);
}

/// <summary>A dataset on disk: its categories, and each category's split.</summary>
public interface IDataset
{
    string Name { get; }
    IReadOnlyList<string> Categories { get; }
    /// <summary>Loads the split of one category; an unknown category is a <see cref="VigilInputException"/> listing the known ones.</summary>
    DatasetSplit Load(string category);
}
