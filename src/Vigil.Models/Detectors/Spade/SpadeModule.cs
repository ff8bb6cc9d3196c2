using Vigil.Backbones;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;

namespace Vigil.Detectors.Spade;

/// <summary>SPADE's registration.</summary>
public sealed class SpadeModule : DetectorModule<SpadeOptions>
{
    public override DetectorInfo Info { get; } = new("spade",
        "K nearest training images by a global feature, then pixel kNN on their feature pyramids",
        "Cohen and Hoshen, Sub-Image Anomaly Detection with Deep Pyramid Correspondences, arXiv 2020",
        "https://github.com/byungjae89/SPADE-pytorch",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.Continual)
    {
        // Resize(256, Image.ANTIALIAS) (PIL Lanczos) and CenterCrop(224) on images; Resize(256, Image.NEAREST) on masks.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.ShortSide, Resize = 256, Crop = 224, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.CentredNearest,
        },
    };

    protected override IDetectorTrainer CreateTrainer(SpadeOptions options) =>
        new FrozenFeatureTrainer<SpadeDetector>(options.Layers, (extractor, _) => new SpadeDetector(extractor, options));

    protected override IDetector Load(ModelArchiveReader archive, SpadeOptions options, BackboneResolver backbone) =>
        SpadeDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
