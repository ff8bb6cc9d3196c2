using Vigil.Backbones;

namespace Vigil.Detectors;

/// <summary>The detectors Vigil can build by name, with default options and a seed for their random choices.</summary>
public static class DetectorCatalog
{
    /// <param name="Layers">The backbone layers the detector reads with default options (open the extractor with exactly these).</param>
    public sealed record Entry(string Name, string Description, IReadOnlyList<string> Layers, Func<IFeatureExtractor, long, FeatureEmbeddingDetector> Create);

    public static IReadOnlyList<Entry> Known { get; } =
    [
        new(PatchCoreDetector.ModelName, "PatchCore (Roth et al. 2022): coreset memory bank of layer2+3 patch features, nearest-neighbour scores",
            new PatchCoreOptions().Layers, (e, seed) => new PatchCoreDetector(e, new PatchCoreOptions { Seed = seed })),
        new("patchcore-reweighted", "PatchCore with the paper's image-score re-weighting over the 9 nearest bank neighbours (anomalib's num_neighbors)",
            new PatchCoreOptions().Layers, (e, seed) => new PatchCoreDetector(e, new PatchCoreOptions { Seed = seed, ReweightingNeighbours = 9 })),
        new("patchcore-softpatch", "PatchCore with SoftPatch denoising (Jiang et al. 2022): LOF outlier patches per position discarded (15 %) before the coreset, soft-weighted scores",
            new PatchCoreOptions().Layers, (e, seed) => new PatchCoreDetector(e, new PatchCoreOptions { Seed = seed, Denoising = new PatchDenoising() })),
        new(PadimDetector.ModelName, "PaDiM (Defard et al. 2021): per-position Gaussian of layer1-3 features, Mahalanobis distance",
            new PadimOptions().Layers, (e, seed) => new PadimDetector(e, new PadimOptions { Seed = seed })),
        new(SpadeDetector.ModelName, "SPADE (Cohen & Hoshen 2020): K nearest training images, then pixel kNN on their feature pyramids",
            [.. new SpadeOptions().PyramidLayers.Append(new SpadeOptions().GlobalLayer).Distinct().Order()],
            (e, _) => new SpadeDetector(e)),
    ];

    /// <summary>The entry called <paramref name="name"/>; an unknown name is an input error listing the known ones.</summary>
    public static Entry Get(string name) =>
        Known.FirstOrDefault(e => e.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new VigilInputException($"Unknown model '{name}'. Known models: {string.Join(", ", Known.Select(e => e.Name))}.");
}
