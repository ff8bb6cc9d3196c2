using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>Reverse Distillation's registration.</summary>
public sealed class ReverseDistillationModule : DetectorModule<ReverseDistillationOptions>
{
    public override DetectorInfo Info { get; } = new(ReverseDistillationDetector.ModelName,
        "A one-class bottleneck and a reverse decoder trained to reconstruct a frozen encoder's layer1-3 features from their compact embedding; 1 - cosine of encoder and decoder features as anomaly map",
        "Deng & Li, Anomaly Detection via Reverse Distillation from One-Class Embedding, CVPR 2022",
        "https://github.com/hq-deng/RD4AD",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // dataset.py get_data_transforms(256, 256): Resize((256, 256)) on PIL images (bilinear, anti-aliased), CenterCrop(256)
        // a no-op; masks resized bilinearly and thresholded at 0.5, approximated by the centred nearest rule (docs/models.md).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.CentredNearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: at most 20 epochs, stopping after 3 without a lower validation loss (20 % of the normal images held back).",
            "epochs=20,validation=0.2,patience=3,keep=best"),
    ];

    protected override IDetectorTrainer CreateTrainer(ReverseDistillationOptions options) =>
        new TrainedDetectorTrainer<ReverseDistillationDetector>(options, ReverseDistillationDetector.EncoderLayers,
            (encoder, seed) => new ReverseDistillationDetector(encoder, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, ReverseDistillationOptions options, BackboneResolver backbone) =>
        ReverseDistillationDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
