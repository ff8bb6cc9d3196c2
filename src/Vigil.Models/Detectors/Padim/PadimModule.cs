using Vigil.Backbones;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;

namespace Vigil.Detectors.Padim;

/// <summary>PaDiM's registration.</summary>
public sealed class PadimModule : DetectorModule<PadimOptions>
{
    public override DetectorInfo Info { get; } = new("padim",
        "A Gaussian per feature-grid position over a random subset of layer1-3 channels; Mahalanobis distance as patch score",
        "Defard et al., PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and Localization, ICPR 2020",
        "https://github.com/xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.Continual);

    protected override IDetectorTrainer CreateTrainer(PadimOptions options) =>
        new FrozenFeatureTrainer<PadimDetector>(options.Layers, (extractor, seed) => new PadimDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, PadimOptions options, BackboneResolver backbone) =>
        PadimDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
