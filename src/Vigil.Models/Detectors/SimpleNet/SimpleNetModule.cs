using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.SimpleNet;

/// <summary>SimpleNet's registration.</summary>
public sealed class SimpleNetModule : DetectorModule<SimpleNetOptions>
{
    public override DetectorInfo Info { get; } = new(SimpleNetDetector.ModelName,
        "A linear adaptor and an MLP discriminator trained on locally aggregated layer2+3 features against the same features plus Gaussian noise; the negative discriminator score as anomaly map",
        "Liu et al., SimpleNet: A Simple Network for Image Anomaly Detection and Localization, CVPR 2023",
        "https://github.com/DonaldRR/SimpleNet",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // run.sh --resize 329 --imagesize 288: datasets/mvtec.py Resize(329) (PIL bilinear) then CenterCrop(288) on images
        // and masks; metrics.py counts a mask pixel as defective only at 1.0 (astype(int)).
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.ShortSide, Resize = 329, Crop = 288, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.FilteredFullyDefective,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        // At σ 0.015 the discriminator stayed at loss 1.0 for 11 epochs of full KSDD (README); σ 0.25 learns within a CPU schedule.
        new("cpu", "A schedule for a CPU: at most 24 epochs, 20 % of the normal images held back, stopping after 4 epochs without a lower validation loss; noise σ 0.25 (official 0.015 does not learn in so few steps).",
            "epochs=24,validation=0.2,patience=4,noise=0.25"),
    ];

    protected override IDetectorTrainer CreateTrainer(SimpleNetOptions options) =>
        new TrainedDetectorTrainer<SimpleNetDetector>(options, options.Layers, (extractor, seed) => new SimpleNetDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, SimpleNetOptions options, BackboneResolver backbone) =>
        SimpleNetDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
