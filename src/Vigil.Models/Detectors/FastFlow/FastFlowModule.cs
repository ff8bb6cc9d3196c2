using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.FastFlow;

/// <summary>FastFlow's registration.</summary>
public sealed class FastFlowModule : DetectorModule<FastFlowOptions>
{
    public override DetectorInfo Info { get; } = new(FastFlowDetector.ModelName,
        "2D normalizing flows (affine coupling blocks with convolutional subnets) on layer-normalised frozen layer1-3 features; the features' low likelihood as anomaly map",
        "Yu et al., FastFlow: Unsupervised Anomaly Detection and Localization via 2D Normalizing Flows, arXiv:2111.07677, 2021",
        "https://github.com/gathierry/FastFlow (unofficial: no official code was released; IM-IAD's open-iad and anomalib follow it)",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // dataset.py: transforms.Resize(256) on PIL images (bilinear, anti-aliased), no crop (MVTec images are square);
        // open-iad: Resize((256, 256)), masks resized bilinearly and thresholded at 0.5, which PIL's nearest approximates.
        ReferenceInput = new FeatureExtractorOptions
        {
            Mode = ResizeMode.Stretch, Resize = 256, Filter = ResizeFilter.AntialiasedBilinear, MaskResize = MaskResize.CentredNearest,
        },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: at most 20 epochs, 20 % of the normal images held back, stopping after 3 epochs without a lower validation loss.",
            "epochs=20,validation=0.2,patience=3"),
    ];

    protected override IDetectorTrainer CreateTrainer(FastFlowOptions options) =>
        new TrainedDetectorTrainer<FastFlowDetector>(options, options.Layers, (extractor, seed) => new FastFlowDetector(extractor, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, FastFlowOptions options, BackboneResolver backbone) =>
        FastFlowDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
