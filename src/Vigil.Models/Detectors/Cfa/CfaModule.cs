using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.Cfa;

/// <summary>CFA's registration.</summary>
public sealed class CfaModule : DetectorModule<CfaOptions>
{
    public override DetectorInfo Info { get; } = new(CfaDetector.ModelName,
        "A CoordConv patch descriptor trained on layer1-3 features so each patch falls inside a hypersphere around its nearest memory centroids and outside the next ones; the softmin-weighted distance to the memory as anomaly map",
        "Lee et al., CFA: Coupled-hypersphere-based Feature Adaptation for Target-Oriented Anomaly Localization, IEEE Access 2022",
        "https://github.com/sungwool/CFA_for_anomaly_localization",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // datasets/mvtec.py: T.Resize(256, Image.ANTIALIAS) (PIL Lanczos, short side) then T.CenterCrop(224) (--size 224,
        // the default); masks T.Resize(256, NEAREST) + CenterCrop(224).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.ShortSide, Resize = 256, Crop = 224, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.CentredNearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: at most 10 epochs, 20 % of the normal images held back, stopping after 2 epochs without a lower validation loss.",
            "epochs=10,validation=0.2,patience=2"),
    ];

    protected override IDetectorTrainer CreateTrainer(CfaOptions options) =>
        new TrainedDetectorTrainer<CfaDetector>(options, options.Layers, (extractor, seed) => new CfaDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, CfaOptions options, BackboneResolver backbone) =>
        CfaDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
