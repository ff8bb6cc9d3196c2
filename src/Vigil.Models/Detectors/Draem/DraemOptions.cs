using Vigil.Detectors.Options;
using Vigil.Imaging;
using Vigil.Training;

namespace Vigil.Detectors.Draem;

/// <summary>DRAEM settings; defaults follow the official code (VitjanZ/DRAEM: train_DRAEM.py, data_loader.py, loss.py, test_DRAEM.py).</summary>
public sealed record DraemOptions : GradientTrainingOptions
{
    /// <summary>The anomaly source that renders Vigil's synthetic categories (the default; the official code reads DTD).</summary>
    public const string SyntheticSource = "synthetic";

    public DraemOptions()
    {
        // train_DRAEM.py (README's command): Adam(lr 1e-4) over both networks, MultiStepLR([0.8, 0.9] · epochs, gamma 0.2)
        // stepped per epoch, 700 epochs of batch 8; no validation, no clipping; the last weights are saved.
        Epochs = 700;
        BatchSize = 8;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 1e-4;
        Schedule = ScheduleKind.MultiStep;
        Gamma = 0.2;
        Keep = KeepWeights.Last;
    }

    [Option("milestones", "Epochs, as fractions of all epochs joined with '+', at which the multistep schedule multiplies the rate by gamma (0.8+0.9).")]
    public override string Milestones { get; init; } = "0.8+0.9";

    [Option("size", "Network input: images stretched to size × size with bilinear interpolation, values in [0, 1] (cv2.resize to 256 × 256, /255); a multiple of 32.")]
    public int Size { get; init; } = 256;

    [Option("base_width", "Channels of the reconstructive sub-network's first block (base_width 128); the blocks widen to 8×.")]
    public int BaseWidth { get; init; } = 128;

    [Option("disc_width", "Channels of the discriminative sub-network's first block (base_channels 64); the blocks widen to 8×.")]
    public int DiscriminativeWidth { get; init; } = 64;

    [Option("source", "Anomaly source images: 'synthetic' renders Vigil's synthetic categories, or a folder of images (searched recursively; the paper uses DTD).")]
    public string Source { get; init; } = SyntheticSource;

    [Option("anomaly_prob", "Share of training images that get a simulated anomaly; the others are learned as they are (0.5).")]
    public double AnomalyProbability { get; init; } = 0.5;

    [Option("perlin_scale", "Perlin lattice cells per axis are 2^k with k uniform in [min_perlin_scale, perlin_scale) (6).")]
    public int PerlinScale { get; init; } = 6;

    [Option("min_perlin_scale", "Smallest exponent of the Perlin lattice's cells per axis (0).")]
    public int MinPerlinScale { get; init; }

    [Option("threshold", "The Perlin noise above this is the anomaly's shape (0.5).")]
    public double Threshold { get; init; } = 0.5;

    [Option("beta_max", "The normal image's share β in the anomaly region is uniform in [0, beta_max) (0.8).")]
    public double BetaMax { get; init; } = 0.8;

    [Option("augmenters", "Distinct augmenters, of the ten, applied in random order to each anomaly source image (3).")]
    public int Augmenters { get; init; } = 3;

    [Option("rotate_prob", "Share of training images rotated (with their target) by an angle uniform in ±rotate degrees (0.3).")]
    public double RotateProbability { get; init; } = 0.3;

    [Option("rotate", "Largest rotation, in degrees, of rotated training images and of the Perlin noise (90).")]
    public double Rotation { get; init; } = 90;

    [Option("ssim_window", "Side of the SSIM loss's Gaussian window (σ 1.5) (11).")]
    public int SsimWindow { get; init; } = 11;

    [Option("focal_gamma", "Focal loss γ of the mask (2).")]
    public double FocalGamma { get; init; } = 2;

    [Option("focal_smooth", "Focal loss label smoothing, also added to p_t before the log (1e-5).")]
    public double FocalSmooth { get; init; } = 1e-5;

    [Option("pool", "Side of the mean filter (stride 1, zero padding counted) over the anomaly map whose maximum is the image score (21).")]
    public int Pool { get; init; } = 21;

    /// <summary>The network input: a stretch to <see cref="Size"/> × <see cref="Size"/>, values in [0, 1] (no normalisation).</summary>
    public Preprocessing Input => new(Size, Size, mean: [0f, 0f, 0f], std: [1f, 1f, 1f]);

    public override void Validate()
    {
        base.Validate();
        if (Size < 32 || Size % 32 != 0) throw new VigilInputException($"DRAEM size={Size} must be a positive multiple of 32 (the discriminative network halves it five times; 256 in the paper).");
        if (BaseWidth < 1 || DiscriminativeWidth < 1) throw new VigilInputException($"DRAEM base_width={BaseWidth} and disc_width={DiscriminativeWidth} must be at least 1 (128 and 64 in the paper).");
        if (string.IsNullOrWhiteSpace(Source)) throw new VigilInputException("DRAEM source must be 'synthetic' or a folder of anomaly source images.");
        if (AnomalyProbability is < 0 or > 1) throw new VigilInputException($"DRAEM anomaly_prob={AnomalyProbability} must be in [0, 1] (0.5 in the paper).");
        if (MinPerlinScale < 0 || PerlinScale <= MinPerlinScale || (1 << (PerlinScale - 1)) > Size)
            throw new VigilInputException($"DRAEM Perlin scales [{MinPerlinScale}, {PerlinScale}) must satisfy 0 ≤ min_perlin_scale < perlin_scale and 2^(perlin_scale − 1) ≤ size ([0, 6) in the paper).");
        if (Threshold is <= -1 or >= 1) throw new VigilInputException($"DRAEM threshold={Threshold} must be in (−1, 1), the Perlin noise's range (0.5 in the paper).");
        if (BetaMax is < 0 or > 1) throw new VigilInputException($"DRAEM beta_max={BetaMax} must be in [0, 1] (0.8 in the paper).");
        if (Augmenters is < 0 or > DraemAugmenters.Count) throw new VigilInputException($"DRAEM augmenters={Augmenters} must be in 0..{DraemAugmenters.Count} (3 in the paper).");
        if (RotateProbability is < 0 or > 1) throw new VigilInputException($"DRAEM rotate_prob={RotateProbability} must be in [0, 1] (0.3 in the paper).");
        if (Rotation is < 0 or > 180) throw new VigilInputException($"DRAEM rotate={Rotation} must be in [0, 180] degrees (90 in the paper).");
        if (SsimWindow < 1 || SsimWindow % 2 == 0) throw new VigilInputException($"DRAEM ssim_window={SsimWindow} must be odd and positive (11 in the paper).");
        if (FocalGamma < 0) throw new VigilInputException($"DRAEM focal_gamma={FocalGamma} must not be negative (2 in the paper).");
        if (FocalSmooth is < 0 or > 1) throw new VigilInputException($"DRAEM focal_smooth={FocalSmooth} must be in [0, 1] (1e-5 in the paper).");
        if (Pool < 1 || Pool % 2 == 0) throw new VigilInputException($"DRAEM pool={Pool} must be odd and positive (21 in the paper).");
    }
}
