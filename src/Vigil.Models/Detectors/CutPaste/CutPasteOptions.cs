using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.CutPaste;

/// <summary>Which augmented views the classifier learns to tell from the (colour-jittered) image.</summary>
public enum CutPasteVariant
{
    /// <summary>Two classes: the image, the image with a CutPaste patch.</summary>
    Normal,

    /// <summary>Two classes: the image, the image with a CutPaste-scar.</summary>
    Scar,

    /// <summary>Three classes: the image, its CutPaste patch, its scar (the paper's best, "CutPaste (3-way)").</summary>
    ThreeWay,

    /// <summary>Two classes: the image, the image with a patch or a scar (even odds).</summary>
    Union,
}

/// <summary>
/// CutPaste settings. The paper (Li, Sohn, Yoon and Pfister, CVPR 2021, Section 4 and Appendix) gives the training
/// (SGD, lr 0.03, momentum 0.9, one cosine cycle, 256 epochs of 256 steps, 32 images a step, each with its augmented
/// views); the augmentation ranges and the weight decay follow the widely used port (Runinho/pytorch-cutpaste,
/// cutpaste.py, run_training.py), the projection head the official framework it was built on
/// (google-research/deep_representation_one_class, model/resnet_util.py get_head).
/// </summary>
public sealed record CutPasteOptions : GradientTrainingOptions
{
    public CutPasteOptions()
    {
        Epochs = 256;
        BatchSize = 32;
        Optimizer = OptimizerKind.Sgd;
        LearningRate = 0.03;
        Momentum = 0.9;
        WeightDecay = 3e-5;
        Schedule = ScheduleKind.Cosine;
    }

    [Option("steps", "Optimizer steps per epoch (the paper: \"we define 256 parameter update steps as one epoch\"); each step reads batch images, cycling through them.")]
    public int StepsPerEpoch { get; init; } = 256;

    [Option("variant", "Self-supervision: threeway (image / CutPaste / scar, the paper's best), normal (image / CutPaste), scar (image / scar), union (image / CutPaste or scar).")]
    public CutPasteVariant Variant { get; init; } = CutPasteVariant.ThreeWay;

    [Option("head_layers", "Hidden layers of the projection head, each a linear layer without bias + batch norm + ReLU (the official framework's 8); then the linear embedding and the linear classifier.")]
    public int HeadLayers { get; init; } = 8;

    [Option("head_width", "Width of the head's hidden layers (512).")]
    public int HeadWidth { get; init; } = 512;

    [Option("embedding", "Width of the head's linear embedding the classifier reads (128).")]
    public int EmbeddingWidth { get; init; } = 128;

    [Option("jitter", "ColorJitter strength for brightness, contrast, saturation and hue, of the whole image before the views are cut and of each pasted patch (0.1).")]
    public double Jitter { get; init; } = 0.1;

    [Option("area_min", "CutPaste patch area, smallest share of the image (0.02).")]
    public double AreaMin { get; init; } = 0.02;

    [Option("area_max", "CutPaste patch area, largest share of the image (0.15).")]
    public double AreaMax { get; init; } = 0.15;

    [Option("aspect", "CutPaste patch aspect ratio, log-uniform in [aspect, 1/aspect] (0.3).")]
    public double Aspect { get; init; } = 0.3;

    [Option("scar_width_min", "Scar width in pixels, smallest (2).")]
    public double ScarWidthMin { get; init; } = 2;

    [Option("scar_width_max", "Scar width in pixels, largest (16).")]
    public double ScarWidthMax { get; init; } = 16;

    [Option("scar_height_min", "Scar height in pixels, smallest (10).")]
    public double ScarHeightMin { get; init; } = 10;

    [Option("scar_height_max", "Scar height in pixels, largest (25).")]
    public double ScarHeightMax { get; init; } = 25;

    [Option("scar_rotation", "Scar rotation in degrees, uniform in [−r, r] (45).")]
    public double ScarRotation { get; init; } = 45;

    public override void Validate()
    {
        base.Validate();
        if (StepsPerEpoch < 1) throw new VigilInputException($"CutPaste steps={StepsPerEpoch} must be at least 1 (256 in the paper).");
        if (!Enum.IsDefined(Variant)) throw new VigilInputException($"CutPaste variant {Variant} must be normal, scar, threeway or union.");
        if (HeadLayers < 0 || HeadWidth < 1 || EmbeddingWidth < 1)
            throw new VigilInputException($"CutPaste head_layers={HeadLayers}, head_width={HeadWidth}, embedding={EmbeddingWidth} must be at least 0, 1, 1 (8, 512, 128 in the official framework).");
        if (Jitter is < 0 or > 0.5) throw new VigilInputException($"CutPaste jitter={Jitter} must be in [0, 0.5] (0.1 in the paper).");
        if (!(AreaMin > 0 && AreaMin <= AreaMax && AreaMax <= 1)) throw new VigilInputException($"CutPaste area_min={AreaMin}, area_max={AreaMax} must satisfy 0 < area_min ≤ area_max ≤ 1 (0.02, 0.15).");
        if (!(Aspect > 0 && Aspect <= 1)) throw new VigilInputException($"CutPaste aspect={Aspect} must be in (0, 1] (0.3).");
        if (!(ScarWidthMin >= 1 && ScarWidthMin <= ScarWidthMax)) throw new VigilInputException($"CutPaste scar_width_min={ScarWidthMin}, scar_width_max={ScarWidthMax} must satisfy 1 ≤ min ≤ max (2, 16).");
        if (!(ScarHeightMin >= 1 && ScarHeightMin <= ScarHeightMax)) throw new VigilInputException($"CutPaste scar_height_min={ScarHeightMin}, scar_height_max={ScarHeightMax} must satisfy 1 ≤ min ≤ max (10, 25).");
        if (ScarRotation is < 0 or > 180) throw new VigilInputException($"CutPaste scar_rotation={ScarRotation} must be in [0, 180] degrees (45).");
    }
}
