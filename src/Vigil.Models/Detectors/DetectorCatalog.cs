using Vigil.Backbones;

namespace Vigil.Detectors;

/// <summary>The detectors Vigil can build by name, each on a given feature extractor with default options.</summary>
public static class DetectorCatalog
{
    public sealed record Entry(string Name, string Description, Func<IFeatureExtractor, FeatureEmbeddingDetector> Create);

    public static IReadOnlyList<Entry> Known { get; } =
    [
        new(PatchCoreDetector.ModelName, "PatchCore (Roth et al. 2022): coreset memory bank of layer2+3 patch features, nearest-neighbour scores",
            e => new PatchCoreDetector(e)),
        new(PadimDetector.ModelName, "PaDiM (Defard et al. 2021): per-position Gaussian of layer1-3 features, Mahalanobis distance",
            e => new PadimDetector(e)),
        new(SpadeDetector.ModelName, "SPADE (Cohen & Hoshen 2020): K nearest training images, then pixel kNN on their feature pyramids",
            e => new SpadeDetector(e)),
    ];

    /// <summary>The entry called <paramref name="name"/>; an unknown name is an input error listing the known ones.</summary>
    public static Entry Get(string name) =>
        Known.FirstOrDefault(e => e.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new VigilInputException($"Unknown model '{name}'. Known models: {string.Join(", ", Known.Select(e => e.Name))}.");
}
