using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.Bgad;

/// <summary>BGAD's registration: a supervised method that learns from the labelled anomalies' masks, run in the supervised setting only.</summary>
public sealed class BgadModule : DetectorModule<BgadOptions>
{
    public override DetectorInfo Info { get; } = new(BgadDetector.ModelName,
        "CFlow's conditional normalizing flows on frozen layer1-3 features, trained on normal images and a few labelled anomalies with their masks: a boundary from the normal log-likelihoods, normal positions pulled above it, defective ones pushed below it by a margin (supervised setting)",
        "Yao et al., Explicit Boundary Guided Semi-Push-Pull Contrastive Learning for Supervised Anomaly Detection, CVPR 2023",
        "https://github.com/xcyao00/BGAD",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.Supervised | DetectorCapabilities.GradientTrained)
    {
        // datasets/mvtec.py: T.Resize((256, 256), Image.ANTIALIAS) (PIL's Lanczos), CenterCrop(256) (a no-op), masks
        // T.Resize((256, 256), Image.NEAREST) — CFlow's loader.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.CentredNearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        // No early stopping: the normal images' validation loss could keep an epoch from before the anomalies were seen.
        new("cpu", "A schedule for a CPU: 6 meta-epochs of 2 sub-epochs (the first on normal images only, warm-up over the first two), as officially without validation.",
            "epochs=12,cosine_every=2,warmup=4,normal_epochs=2"),
    ];

    protected override IDetectorTrainer CreateTrainer(BgadOptions options) =>
        new TrainedDetectorTrainer<BgadDetector>(options, options.Layers, (extractor, seed) => new BgadDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, BgadOptions options, BackboneResolver backbone) =>
        BgadDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
