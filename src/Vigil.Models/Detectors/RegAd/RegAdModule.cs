using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;

namespace Vigil.Detectors.RegAd;

/// <summary>RegAD's registration: a few-shot method with pixel maps, its backbone trained with spatial transformers on other categories.</summary>
public sealed class RegAdModule : DetectorModule<RegAdOptions>
{
    public override DetectorInfo Info { get; } = new(RegAdDetector.ModelName,
        "The ImageNet ResNet18 with spatial transformers after stages 1-3, trained to register pairs of images of other categories (siamese, negative cosine); a Gaussian per position of the registered layer1-3 features of the augmented support set, Mahalanobis distance as patch score (few-shot)",
        "Huang, Guan, Jiang, Zhang, Chen, Wang and Wang, Registration based Few-Shot Anomaly Detection, ECCV 2022",
        "https://github.com/MediaBrain-SJTU/RegAD",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // datasets/mvtec.py: transforms.Resize(224, Image.ANTIALIAS) (the short side; MVTec AD images are square), no crop;
        // masks Resize(224, Image.NEAREST).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 224, Filter = ResizeFilter.AntialiasedLanczos, MaskResize = MaskResize.Nearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: 3 epochs of registration training on batches of 8 queries with 2 supports each, and Gaussians over 100 of the 448 channels (PaDiM's number for the ResNet18).",
            "epochs=3,batch=8,shot=2,dims=100"),
    ];

    protected override IDetectorTrainer CreateTrainer(RegAdOptions options) => new RegAdTrainer(options);

    protected override IDetector Load(ModelArchiveReader archive, RegAdOptions options, BackboneResolver backbone) =>
        RegAdDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
