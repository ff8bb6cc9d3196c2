using Vigil.Detectors;

namespace Vigil.Tests.Detectors;

public class DetectorCatalogTests
{
    [Fact]
    public void PatchCoreVariantsCarryTheirOptionsAndTheSeed()
    {
        using var softPatch = DetectorCatalog.Get("PatchCore-SoftPatch").Create(new RandomConvFeatureExtractor(), 3);
        var options = Assert.IsType<PatchCoreDetector>(softPatch).Options;
        Assert.Equal((3L, PatchOutlierMethod.Lof, 0.15, true), (options.Seed, options.Denoising!.Method, options.Denoising.DiscardRatio, options.Denoising.SoftWeighting));
        Assert.Null(options.ReweightingNeighbours);

        using var reweighted = DetectorCatalog.Get("patchcore-reweighted").Create(new RandomConvFeatureExtractor(), 4);
        Assert.Equal((4L, 9, (PatchDenoising?)null), (((PatchCoreDetector)reweighted).Options.Seed, ((PatchCoreDetector)reweighted).Options.ReweightingNeighbours, ((PatchCoreDetector)reweighted).Options.Denoising));
    }

    [Fact]
    public void EveryEntryBuildsADetectorReadingItsDeclaredLayers()
    {
        foreach (var entry in DetectorCatalog.Known)
        {
            using var detector = entry.Create(new RandomConvFeatureExtractor(), 0);
            Assert.StartsWith(detector.Name, entry.Name);
            Assert.Subset(new HashSet<string>(detector.Extractor.Layers), new HashSet<string>(entry.Layers));
        }
    }
}
