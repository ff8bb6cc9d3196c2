using Vigil.Backbones;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;

namespace Vigil.Detectors.Dne;

/// <summary>DNE's registration: a continual detector, image-level (its map is the image score everywhere).</summary>
public sealed class DneModule : DetectorModule<DneOptions>
{
    public override DetectorInfo Info { get; } = new(DneDetector.ModelName,
        "A Gaussian (Ledoit–Wolf) of L2-normalised global image embeddings per task; after each task one Gaussian is refitted on embeddings replayed from the earlier tasks' Gaussians plus the new task's; Mahalanobis distance as image score (image-level: no localisation)",
        "Li et al., Towards Continual Adaptation in Industrial Anomaly Detection, ACM MM 2022",
        "https://github.com/vijaylee/Continual_Anomaly_Detection",
        DetectorCapabilities.Continual)
    {
        // datasets/mvtec_dataset.py: PIL Image.resize((224, 224)) (Pillow's default bicubic; Vigil has no anti-aliased
        // bicubic, so anti-aliased bilinear), no crop; ImageNet normalisation. The reference reads no masks.
        ReferenceInput = new FeatureExtractorOptions { Mode = ResizeMode.Stretch, Resize = 224, Filter = ResizeFilter.AntialiasedBilinear },
    };

    protected override IDetectorTrainer CreateTrainer(DneOptions options) =>
        new FrozenFeatureTrainer<DneDetector>([options.Layer], (extractor, seed) => new DneDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, DneOptions options, BackboneResolver backbone) =>
        DneDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
