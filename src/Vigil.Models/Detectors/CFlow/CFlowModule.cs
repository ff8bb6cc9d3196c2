using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.CFlow;

/// <summary>CFlow-AD's registration.</summary>
public sealed class CFlowModule : DetectorModule<CFlowOptions>
{
    public override DetectorInfo Info { get; } = new(CFlowDetector.ModelName,
        "Conditional normalizing flows on the feature vectors of frozen layer2-4 features, conditioned on their 2D positional encoding; the features' low likelihood as anomaly map",
        "Gudovskiy et al., CFLOW-AD: Real-Time Unsupervised Anomaly Detection with Localization via Conditional Normalizing Flows, WACV 2022",
        "https://github.com/gudovskiy/cflow-ad",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // custom_datasets/loader.py MVTecDataset: T.Resize((256, 256), Image.ANTIALIAS) (PIL's Lanczos), CenterCrop(256) (a
        // no-op), masks T.Resize((256, 256), Image.NEAREST).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.CentredNearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: 6 meta-epochs of 2 sub-epochs (warm-up over the first 2), 20 % of the normal images held back, stopping after 4 epochs without a lower validation loss.",
            "epochs=12,cosine_every=2,warmup=4,validation=0.2,patience=4"),
    ];

    protected override IDetectorTrainer CreateTrainer(CFlowOptions options) =>
        new TrainedDetectorTrainer<CFlowDetector>(options, options.Layers, (extractor, seed) => new CFlowDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, CFlowOptions options, BackboneResolver backbone) =>
        CFlowDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
