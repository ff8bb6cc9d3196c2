using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.Stpm;

/// <summary>STPM's registration.</summary>
public sealed class StpmModule : DetectorModule<StpmOptions>
{
    public override DetectorInfo Info { get; } = new(StpmDetector.ModelName,
        "A student ResNet trained from scratch to reproduce a pretrained teacher's layer1-3 features on normal images; their normalised differences as anomaly map",
        "Wang et al., Student-Teacher Feature Pyramid Matching for Anomaly Detection, BMVC 2021",
        "https://github.com/gdwang08/STFPM",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // main.py: transforms.Resize([256, 256]) on PIL images (bilinear, anti-aliased), no crop; load_gt: cv2.resize to
        // 256 × 256 then astype(bool).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.BilinearAnyDefective,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: at most 20 epochs, stopping after 3 without a lower validation map.", "epochs=20,patience=3"),
    ];

    protected override IDetectorTrainer CreateTrainer(StpmOptions options) =>
        new TrainedDetectorTrainer<StpmDetector>(options, options.Layers, (teacher, seed) => new StpmDetector(teacher, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, StpmOptions options, BackboneResolver backbone) =>
        StpmDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
