using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;

namespace Vigil.Detectors.Igd;

/// <summary>IGD's registration: a generator and critic trained on the frozen ResNet18's pooled layer4 features and the images.</summary>
public sealed class IgdModule : DetectorModule<IgdOptions>
{
    public override DetectorInfo Info { get; } = new(IgdDetector.ModelName,
        "A linear head over the frozen ResNet18's pooled features gives a latent code, a decoder reconstructs the image from it (MS-SSIM + L1); the codes are pulled into a Gaussian descriptor, and a critic on decoded interpolations between codes (ACAI-style) regularises the latent space; score: reconstruction error and Gaussian score, map: the MS-SSIM residual map",
        "Chen, Tian, Pang and Carneiro, Deep One-Class Classification via Interpolated Gaussian Descriptor, AAAI 2022",
        "https://github.com/tianyu0207/IGD",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained)
    {
        // ssim_main.py: Resize(256) and CenterCrop(256) of PIL images (bilinear, anti-aliased), ImageNet normalisation.
        ReferenceInput = new FeatureExtractorOptions { Mode = ResizeMode.ShortSide, Resize = 256, Crop = 256, Filter = ResizeFilter.AntialiasedBilinear },
    };

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: decoder and critic 8 channels wide at their narrow ends (official 64), 10 epochs at lr 1e-3 (10× the official rate, for 4 % of its steps), the Gaussian re-estimated after epoch 5; a few minutes for a few hundred images on one core.",
            "width=8,epochs=10,lr=0.001,center_every=5"),
    ];

    protected override IDetectorTrainer CreateTrainer(IgdOptions options) =>
        new TrainedDetectorTrainer<IgdDetector>(options, [IgdDetector.Layer], (backbone, seed) => new IgdDetector(backbone, options, seed));

    protected override IDetector Load(ModelArchiveReader archive, IgdOptions options, BackboneResolver backbone) =>
        IgdDetector.Restore(archive, options, backbone(archive.RequireBackbone()));
}
