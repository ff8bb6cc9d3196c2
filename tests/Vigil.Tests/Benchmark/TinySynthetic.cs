using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Tests.Data;

namespace Vigil.Tests.Benchmark;

/// <summary>A small synthetic dataset (one category, 64×64) in a temporary folder, for tests that run whole benchmark cells.</summary>
public sealed class TinySynthetic : IDisposable
{
    public const string Category = "wood";

    private readonly TempTree _temp = new();

    public TinySynthetic(int trainCount = 10, int testGoodCount = 6, int perDefectCount = 3)
    {
        Options = new SyntheticOptions
        {
            ImageSize = 64, TrainGoodCount = trainCount, TestGoodCount = testGoodCount, TestDefectCount = perDefectCount,
            Seed = 5, Categories = [Category],
        };
        Root = SyntheticDataset.Generate(_temp.Path("synthetic"), Options);
    }

    public SyntheticOptions Options { get; }

    /// <summary>The dataset root (holds <see cref="Category"/>/train, /test, /ground_truth).</summary>
    public string Root { get; }

    /// <summary>A scratch folder beside the dataset, e.g. for benchmark output.</summary>
    public string Scratch(string name) => _temp.Folder(name);

    public DatasetSplit Load() => new MvtecLayoutDataset(Root, SyntheticDataset.Name).Load(Category);

    public int DefectTypeCount => SyntheticDataset.DefectTypes(Category).Count;

    public void Dispose() => _temp.Dispose();
}
