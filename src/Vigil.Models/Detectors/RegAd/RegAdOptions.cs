using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// The transformations RegAD's spatial transformers may learn (models/stn.py N_PARAMS): each predicts its parameters
/// and builds a 2×3 affine matrix from them.
/// </summary>
public enum StnMode { Affine, Translation, Rotation, Scale, Shear, RotationScale, TranslationScale, RotationTranslation, RotationTranslationScale }

/// <summary>
/// RegAD settings; defaults follow the official code (MediaBrain-SJTU/RegAD, train.py's arguments and its
/// adjust_learning_rate): SGD lr 1e-4, momentum 0.9 (one optimizer per network, the same settings: one optimizer here),
/// cosine decay per epoch, 50 epochs of batches of 32 query images, each with its K support images.
/// </summary>
public sealed record RegAdOptions : GradientTrainingOptions
{
    /// <summary>The meta value that skips registration training.</summary>
    public const string NoMeta = "none";

    /// <summary>The largest training shot <see cref="Shot"/> takes from the support set by default (the paper's K are 2, 4, 8).</summary>
    public const int MaxDefaultShot = 8;

    public RegAdOptions()
    {
        Epochs = 50;
        BatchSize = 32;
        Optimizer = OptimizerKind.Sgd;
        LearningRate = 1e-4;
        Momentum = 0.9;
        Schedule = ScheduleKind.Cosine;
        CosineEvery = 1;
    }

    [Option("meta", "Where the registration pairs come from: a dataset spec whose categories other than the target's are trained on (the official code: the other MVTec AD categories); synthetic = Vigil's generated textures; none = no registration training (pretrained ResNet, transformers at the identity).")]
    public string Meta { get; init; } = "synthetic";

    [Option("shot", "Support images per query image in registration training; none = the number of training images (the official code trains with the test's K), at most 8.")]
    public int? Shot { get; init; }

    [Option("stn", "What the spatial transformers learn (the official rotation_scale, written rotationscale; also affine, translation, rotation, scale, shear, translationscale, rotationtranslation, rotationtranslationscale).")]
    public StnMode Stn { get; init; } = StnMode.RotationScale;

    [Option("support_augment", "Augment the support images as the official test does: 8 small rotations, 8 translations, a horizontal flip, a grey copy and 3 quarter turns beside each image (true).")]
    public bool SupportAugment { get; init; } = true;

    [Option("dims", "Size of a seeded random subset of the 448 layer1-3 channels the Gaussians model; none = all of them (the official code).")]
    public int? Dimensions { get; init; }

    [Option("regularisation", "ε added to every covariance diagonal (0.01).")]
    public double Regularisation { get; init; } = 0.01;

    [Option("sigma", "σ (network-input pixels) of the Gaussian smoothing of the anomaly map (4).")]
    public double MapSigma { get; init; } = 4;

    [Option("support_batch", "Images (augmented copies included) passed through the network together while the Gaussians are fitted (memory, not results).")]
    public int SupportBatch { get; init; } = 16;

    /// <summary>Whether registration training runs.</summary>
    public bool TrainsRegistration => !Meta.Trim().Equals(NoMeta, StringComparison.OrdinalIgnoreCase);

    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(Meta)) throw new VigilInputException("RegAD meta must name a dataset (synthetic, mvtec:/path, …) or be none.");
        if (Shot < 1) throw new VigilInputException($"RegAD shot={Shot} must be at least 1, or none for the number of training images.");
        if (!Enum.IsDefined(Stn)) throw new VigilInputException($"RegAD stn={Stn} is not a transformation the official code knows.");
        if (Dimensions < 1) throw new VigilInputException($"RegAD dims={Dimensions} must be positive, or none for all channels.");
        if (!(Regularisation > 0)) throw new VigilInputException($"RegAD regularisation={Regularisation} must be positive (0.01).");
        if (MapSigma < 0) throw new VigilInputException($"RegAD sigma={MapSigma} must not be negative (4; 0 = no smoothing).");
        if (SupportBatch < 1) throw new VigilInputException($"RegAD support_batch={SupportBatch} must be at least 1.");
        // Registration training draws its own episodes from the meta dataset: no validation images, no image augmentation.
        if (ValidationRatio > 0 || Patience is not null)
            throw new VigilInputException("RegAD's registration training has no validation (the official code keeps the epoch with the best test AUROC, which Vigil does not do): leave validation and patience unset.");
        if (Augmentations != Settings.AugmentationKinds.None)
            throw new VigilInputException("RegAD's registration training uses its image pairs as they are (augment=none); its support set has its own augmentation (support_augment).");
    }
}
