using Vigil.Backbones;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;

namespace Vigil.Detectors.PatchCore;

/// <summary>PatchCore's registration.</summary>
public sealed class PatchCoreModule : DetectorModule<PatchCoreOptions>
{
    public override DetectorInfo Info { get; } = new("patchcore",
        "Coreset memory bank of locally aggregated layer2+3 patch features; nearest-neighbour distance as patch score",
        "Roth et al., Towards Total Recall in Industrial Anomaly Detection, CVPR 2022",
        "https://github.com/amazon-science/patchcore-inspection",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.Continual)
    {
        // bin/run_patchcore.py --resize 256 --imagesize 224: torchvision Resize(256) (PIL bilinear) on images and masks.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.ShortSide, Resize = 256, Crop = 224, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.FilteredFullyDefective,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("reweighted", "the paper's image-score re-weighting over the 9 nearest bank neighbours (anomalib's num_neighbors)", "reweighting=9"),
        new("softpatch", "SoftPatch denoising (Jiang et al., NeurIPS 2022): LOF outlier patches per position discarded (15 %) before the coreset, soft-weighted scores", "denoising=lof"),
    ];

    protected override IDetectorTrainer CreateTrainer(PatchCoreOptions options) =>
        new FrozenFeatureTrainer<PatchCoreDetector>(options.Layers, (extractor, seed) => new PatchCoreDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, PatchCoreOptions options, BackboneResolver backbone) =>
        PatchCoreDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
