using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.Dra;

/// <summary>DRA's registration: a supervised method, run in the supervised setting only.</summary>
public sealed class DraModule : DetectorModule<DraOptions>
{
    public override DetectorInfo Info { get; } = new(DraDetector.ModelName,
        "Four heads on a fine-tuned ResNet18 at two scales (a holistic normality head, a seen-anomaly and a CutMix pseudo-anomaly top-k head, a latent-residual head against normal references) trained with the deviation loss on normal images and a few labelled anomalies (supervised setting; image-level, the map is the seen head's upsampled score map)",
        "Ding, Pang and Shen, Catching Both Gray and Black Swans: Open-set Supervised Anomaly Detection, CVPR 2022",
        "https://github.com/Choubo/DRA",
        DetectorCapabilities.Supervised | DetectorCapabilities.GradientTrained)
    {
        // datasets/mvtecad.py: transforms.Resize((448, 448)) on PIL images, no crop.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 448, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.BilinearAnyDefective,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: the official 30 epochs × 20 batches training the heads on a frozen backbone without the random rotations; only the pseudo anomalies' features are computed per step.",
            "finetune=false,augment=none"),
    ];

    protected override IDetectorTrainer CreateTrainer(DraOptions options) =>
        new TrainedDetectorTrainer<DraDetector>(options, ["layer4"], (extractor, seed) => new DraDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, DraOptions options, BackboneResolver backbone) =>
        DraDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
