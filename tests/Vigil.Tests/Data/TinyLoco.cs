using Vigil.Data;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Data;

/// <summary>
/// A small MVTec LOCO AD tree (one category, 64×64 textures) made from a generated synthetic category: its training
/// images split into train/good and validation/good, its defect types split into logical and structural anomalies,
/// each defect's mask as the image's single ground-truth channel (pixel value 255), and a defects_config.json.
/// For tests that run LOCO through the benchmark, training and the CLI.
/// </summary>
public sealed class TinyLoco : IDisposable
{
    public const string Category = "box";
    public const int ValidationCount = 3;

    private readonly TinySynthetic _synthetic;

    public TinyLoco(int trainCount = 8, int testGoodCount = 4, int perDefectCount = 2)
    {
        _synthetic = new TinySynthetic(trainCount + ValidationCount, testGoodCount, perDefectCount);
        Root = _synthetic.Scratch("loco");
        var source = _synthetic.Load();
        var folder = Path.Combine(Root, Category);
        var types = source.Test.Where(s => s.IsAnomalous).Select(s => s.DefectType).Distinct().Order(StringComparer.Ordinal).ToList();
        var logicalTypes = types.Take(types.Count / 2).ToHashSet();
        for (int i = 0; i < source.Train.Count; i++)
            Copy(source.Train[i].SourcePath, Path.Combine(folder, i < ValidationCount ? "validation" : "train", "good", $"{i:D3}.png"));
        int index = 0;
        foreach (var sample in source.Test)
        {
            var type = !sample.IsAnomalous ? "good" : logicalTypes.Contains(sample.DefectType) ? LocoDataset.LogicalType : LocoDataset.StructuralType;
            var stem = $"{index++:D3}";
            Copy(sample.SourcePath, Path.Combine(folder, "test", type, stem + ".png"));
            if (sample.Mask is MaskFile mask) Copy(mask.Path, Path.Combine(folder, "ground_truth", type, stem, "000.png"));
        }
        File.WriteAllText(Path.Combine(folder, LocoDataset.ConfigFile),
            """[{"defect_name": "defect", "pixel_value": 255, "saturation_threshold": 1.0, "relative_saturation": true}]""");
    }

    /// <summary>The dataset root (holds <see cref="Category"/>/).</summary>
    public string Root { get; }

    /// <summary>A scratch folder beside the dataset, e.g. for benchmark output.</summary>
    public string Scratch(string name) => _synthetic.Scratch(name);

    public DatasetSplit Load() => new LocoDataset(Root).Load(Category);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }

    public void Dispose() => _synthetic.Dispose();
}
