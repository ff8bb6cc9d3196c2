using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.CutPaste;

/// <summary>CutPaste's registration: image-level (its map is the image score everywhere), gradient-trained.</summary>
public sealed class CutPasteModule : DetectorModule<CutPasteOptions>
{
    public override DetectorInfo Info { get; } = new(CutPasteDetector.ModelName,
        "The ImageNet ResNet18 with a projection head fine-tuned to tell images from their CutPaste and CutPaste-scar copies (3-way self-supervision); a Gaussian (Ledoit–Wolf) of the training images' pooled features, Mahalanobis distance as image score (image-level: no localisation)",
        "Li, Sohn, Yoon and Pfister, CutPaste: Self-Supervised Learning for Anomaly Detection and Localization, CVPR 2021",
        "https://github.com/Runinho/pytorch-cutpaste",
        DetectorCapabilities.GradientTrained)
    {
        // dataset.py: PIL Image.resize((256, 256)) (Pillow's default bicubic; Vigil has no anti-aliased bicubic, so
        // anti-aliased bilinear), no crop; ImageNet normalisation. No masks are read.
        ReferenceInput = new FeatureExtractorOptions { Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedBilinear },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: one epoch of 64 steps of 8 images (24 views), the official cosine decay over them.", "epochs=1,steps=64,batch=8"),
    ];

    protected override IDetectorTrainer CreateTrainer(CutPasteOptions options) =>
        new TrainedDetectorTrainer<CutPasteDetector>(options, ["layer4"], (extractor, seed) => new CutPasteDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, CutPasteOptions options, BackboneResolver backbone) =>
        CutPasteDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
