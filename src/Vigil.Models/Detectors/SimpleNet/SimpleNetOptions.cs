using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.SimpleNet;

/// <summary>SimpleNet settings; defaults follow the official code (DonaldRR/SimpleNet, run.sh and simplenet.py).</summary>
public sealed record SimpleNetOptions : GradientTrainingOptions
{
    public SimpleNetOptions()
    {
        // run.sh: --meta_epochs 40 --gan_epochs 4 (40 × 4 passes over the training images), --batch_size 8; simplenet.py:
        // the discriminator's Adam(lr=dsc_lr 0.0002, weight_decay=1e-5), no cosine schedule (cos_lr off).
        Epochs = 160;
        BatchSize = 8;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 2e-4;
        WeightDecay = 1e-5;
        ValidationRatio = 0;
    }

    [Option("layers", "Backbone layers whose patch features are aggregated; the first sets the feature grid (layer2+layer3 in the paper).")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer2", "layer3"];

    [Option("patch", "Side of the local neighbourhood aggregated into each patch feature (odd; stride 1, same padding; 3 in the paper).")]
    public int PatchSize { get; init; } = 3;

    [Option("pretrain_dim", "Each layer's patch vector (C·p² values) is adaptively average-pooled to this length (1536).")]
    public int PretrainEmbedDimension { get; init; } = 1536;

    [Option("target_dim", "The layers' pooled vectors, concatenated, are adaptively average-pooled to this length: the adaptor's and discriminator's width (1536).")]
    public int TargetEmbedDimension { get; init; } = 1536;

    [Option("adaptor_layers", "Linear layers of the feature adaptor (pre_proj 1); 0 = no adaptor.")]
    public int AdaptorLayers { get; init; } = 1;

    [Option("adaptor_lr", "The adaptor's AdamW learning rate (0.1 × the official lr 1e-3).")]
    public double AdaptorLearningRate { get; init; } = 1e-4;

    [Option("adaptor_weight_decay", "The adaptor's AdamW weight decay (PyTorch's AdamW default, 0.01).")]
    public double AdaptorWeightDecay { get; init; } = 1e-2;

    [Option("noise", "σ of the Gaussian noise added to adapted normal features to make anomalous ones (0.015).")]
    public double NoiseStd { get; init; } = 0.015;

    [Option("disc_layers", "Layers of the discriminator: disc_layers − 1 blocks (Linear, BatchNorm, LeakyReLU 0.2) and a linear tail (2).")]
    public int DiscriminatorLayers { get; init; } = 2;

    [Option("disc_hidden", "Width of the discriminator's hidden blocks (1024); none = the official fallback, each ⌊previous / 1.5⌋.")]
    public int? DiscriminatorHidden { get; init; } = 1024;

    [Option("margin", "Threshold th of the truncated L1 loss: normal scores are pushed above th, anomalous ones below −th (0.5).")]
    public double Margin { get; init; } = 0.5;

    [Option("sigma", "σ (network-input pixels) of the Gaussian smoothing of the upsampled map (4).")]
    public double MapSigma { get; init; } = 4;

    public override void Validate()
    {
        base.Validate();
        if (Layers.Count == 0) throw new VigilInputException("SimpleNet needs at least one layer (layer2+layer3 in the paper).");
        if (PatchSize < 1 || PatchSize % 2 == 0) throw new VigilInputException($"SimpleNet patch={PatchSize} must be a positive odd number (3 in the paper).");
        if (PretrainEmbedDimension < 1 || TargetEmbedDimension < 1)
            throw new VigilInputException($"SimpleNet pretrain_dim={PretrainEmbedDimension} and target_dim={TargetEmbedDimension} must be positive (1536 in the paper).");
        if (AdaptorLayers < 0) throw new VigilInputException($"SimpleNet adaptor_layers={AdaptorLayers} must not be negative (1 in the paper, 0 = none).");
        if (!(AdaptorLearningRate > 0) || AdaptorWeightDecay < 0)
            throw new VigilInputException($"SimpleNet adaptor_lr={AdaptorLearningRate} must be positive and adaptor_weight_decay={AdaptorWeightDecay} not negative.");
        if (!(NoiseStd > 0)) throw new VigilInputException($"SimpleNet noise={NoiseStd} must be positive (0.015 in the paper).");
        if (DiscriminatorLayers < 1) throw new VigilInputException($"SimpleNet disc_layers={DiscriminatorLayers} must be at least 1 (2 in the paper).");
        if (DiscriminatorHidden < 1) throw new VigilInputException($"SimpleNet disc_hidden={DiscriminatorHidden} must be positive, or none (1024 in the paper).");
        if (!(Margin >= 0)) throw new VigilInputException($"SimpleNet margin={Margin} must not be negative (0.5 in the paper).");
        if (!(MapSigma >= 0)) throw new VigilInputException($"SimpleNet sigma={MapSigma} must not be negative (4 in the paper; 0 = no smoothing).");
    }
}
