using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;

namespace Vigil.Detectors.Draem;

/// <summary>DRAEM's registration: two networks trained from scratch, no frozen backbone (the run's backbone is not used).</summary>
public sealed class DraemModule : DetectorModule<DraemOptions>
{
    // No ReferenceInput: DRAEM's input is its own (size option: cv2.resize to 256 × 256, values /255), not a backbone's.
    public override DetectorInfo Info { get; } = new(DraemDetector.ModelName,
        "A reconstructive U-Net learns to give back normal images from images with simulated anomalies (Perlin-noise regions of augmented textures); a discriminative U-Net reads image and reconstruction and segments the anomaly; both trained from scratch (no backbone)",
        "Zavrtanik, Kristan and Skočaj, DRAEM – A discriminatively trained reconstruction embedding for surface anomaly detection, ICCV 2021",
        "https://github.com/VitjanZ/DRAEM",
        DetectorCapabilities.PixelMaps | DetectorCapabilities.GradientTrained);

    public override IReadOnlyList<DetectorVariant> Variants { get; } =
    [
        new("cpu", "A schedule for a CPU: both networks 8 channels wide at the first block (official 128 and 64), 128×128 input, 20 epochs at lr 1e-3 (10× the official rate, for a few % of its steps); under half an hour on full MTD on one core.",
            "base_width=8,disc_width=8,size=128,epochs=20,lr=0.001"),
    ];

    protected override IDetectorTrainer CreateTrainer(DraemOptions options) =>
        new TrainedDetectorTrainer<DraemDetector>(options, seed => new DraemDetector(options, seed, DraemAnomalySource.Open(options.Source)));

    protected override IDetector Load(ModelArchiveReader archive, DraemOptions options, BackboneResolver backbone) =>
        DraemDetector.Restore(archive, options);
}
