using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.DevNet;

/// <summary>DevNet's registration: a supervised method, run in the supervised setting only.</summary>
public sealed class DevNetModule : DetectorModule<DevNetOptions>
{
    public override DetectorInfo Info { get; } = new(DevNetDetector.ModelName,
        "A 1×1 convolution scores the fine-tuned ResNet18's last feature map at two scales; the mean of its top 10 % |scores| is trained with the deviation loss on normal images and a few labelled anomalies (supervised setting; image-level, the map is the upsampled score map)",
        "Pang et al., Deep Anomaly Detection with Deviation Networks, KDD 2019 (images: Pang, Ding, Shen and van den Hengel, Explainable Deep Few-shot Anomaly Detection with Deviation Networks, 2021)",
        "https://github.com/Choubo/deviation-network-image",
        DetectorCapabilities.Supervised | DetectorCapabilities.GradientTrained)
    {
        // datasets/mvtecad.py: transforms.Resize((448, 448)) on PIL images (bilinear, anti-aliased), no crop. Masks are not read for training.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 448, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.BilinearAnyDefective,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: the official 50 epochs × 20 batches training the head on a frozen backbone without the random rotations, so the features are computed once.",
            "finetune=false,augment=none"),
    ];

    protected override IDetectorTrainer CreateTrainer(DevNetOptions options) =>
        new TrainedDetectorTrainer<DevNetDetector>(options, [options.Layer], (extractor, seed) => new DevNetDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, DevNetOptions options, BackboneResolver backbone) =>
        DevNetDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
