using Vigil.Backbones;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;

namespace Vigil.Detectors.Padim;

/// <summary>PaDiM's registration.</summary>
public sealed class PadimModule : DetectorModule<PadimOptions>
{
    public override DetectorInfo Info { get; } = new("padim",
        "A Gaussian per feature-grid position over a random subset of layer1-3 channels; Mahalanobis distance as patch score",
        "Defard et al., PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and Localization, ICPR 2020",
        "https://github.com/xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.Continual)
    {
        // Resize(256, Image.ANTIALIAS) (PIL Lanczos) and CenterCrop(224) on images; Resize(256, Image.NEAREST) on masks.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.ShortSide, Resize = 256, Crop = 224, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.CentredNearest,
        },
    };

    protected override IDetectorTrainer CreateTrainer(PadimOptions options) =>
        new FrozenFeatureTrainer<PadimDetector>(options.Layers, (extractor, seed) => new PadimDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, PadimOptions options, BackboneResolver backbone) =>
        PadimDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
