using System.Globalization;
using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Igd;

/// <summary>IGD settings; defaults follow the official code (tianyu0207/IGD: p256/ssim_main.py, p256/mvtec_module.py, multi_scale/inference_loc.py).</summary>
public sealed record IgdOptions : GradientTrainingOptions
{
    public IgdOptions()
    {
        // ssim_main.py: MAX_EPOCH 256 of BATCH_SIZE 16; optimizer_g = Adam(lr 1e-4, betas (0, 0.9), weight_decay 1e-6),
        // optimizer_d the same without weight decay; poly_lr_scheduler (power 0.9) per iteration over all iterations;
        // no validation, the last weights (the code reports its best test AUC, which Vigil does not select on).
        Epochs = 256;
        BatchSize = 16;
        Optimizer = OptimizerKind.Adam;
        LearningRate = 1e-4;
        Beta1 = 0;
        Beta2 = 0.9;
        WeightDecay = 1e-6;
        Schedule = ScheduleKind.Poly;
        Keep = KeepWeights.Last;
    }

    [Option("poly_power", "With the poly schedule: the power of (1 − t / epochs) (0.9).")]
    public override double PolyPower { get; init; } = 0.9;

    [Option("latent", "Latent dimension: the encoder head maps the pooled layer4 features to it (latent_dimension 128).")]
    public int Latent { get; init; } = 128;

    [Option("width", "Channels of the decoder's last block and the critic's first (dim 64); the blocks widen to 8×.")]
    public int Width { get; init; } = 64;

    [Option("critic_weight_decay", "Weight decay of the critic's Adam (0; the generator's is weight_decay).")]
    public double CriticWeightDecay { get; init; }

    [Option("ssim_weight", "Share of 1 − MS-SSIM in the reconstruction error; the rest is the L1 error / data_range (weight 0.85).")]
    public double SsimWeight { get; init; } = 0.85;

    [Option("msssim_weights", "MS-SSIM level weights joined with '+', one level each (0.0448+0.2856+0.3001+0.2363+0.1333).")]
    public string MsSsimWeights { get; init; } = "0.0448+0.2856+0.3001+0.2363+0.1333";

    [Option("ssim_window", "Side of MS-SSIM's Gaussian window (σ 1.5) (win_size 11).")]
    public int SsimWindow { get; init; } = 11;

    [Option("data_range", "Value range of the normalised images for MS-SSIM and the L1 error (2.1179 + 2.6400).")]
    public double DataRange { get; init; } = 2.1179 + 2.6400;

    [Option("interp_weight", "Weight of the interpolation regulariser mean(critic(decoded interpolation)²) in the generator loss (0.1).")]
    public double InterpolationWeight { get; init; } = 0.1;

    [Option("alpha_max", "Interpolation coefficients α are uniform in [0, alpha_max) per image (0.5).")]
    public double AlphaMax { get; init; } = 0.5;

    [Option("critic_gamma", "The critic learns 0 on reconstruction + critic_gamma · (image − reconstruction) (gamma 0.2).")]
    public double CriticGamma { get; init; } = 0.2;

    [Option("center_eps", "Centre coordinates closer to 0 than this are pushed to ±center_eps (eps 0.1).")]
    public double CenterEpsilon { get; init; } = 0.1;

    [Option("center_every", "Epochs between re-estimations of the Gaussian's width and centre during training (10).")]
    public int CenterEvery { get; init; } = 10;

    [Option("score_recon", "Share of the reconstruction error in the image score; the rest is the Gaussian score (0.5).")]
    public double ReconstructionShare { get; init; } = 0.5;

    /// <summary>The MS-SSIM level weights <see cref="MsSsimWeights"/> names.</summary>
    public IReadOnlyList<double> LevelWeights => MsSsimWeights.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) && w >= 0 ? w
            : throw new VigilInputException($"IGD msssim_weights entry '{text}' must be a non-negative number; weights are joined with '+' (0.0448+0.2856+0.3001+0.2363+0.1333)."))
        .ToArray();

    public override void Validate()
    {
        base.Validate();
        if (Latent < 1 || Width < 1) throw new VigilInputException($"IGD latent={Latent} and width={Width} must be at least 1 (128 and 64 in the paper).");
        if (CriticWeightDecay < 0) throw new VigilInputException($"IGD critic_weight_decay={CriticWeightDecay} must not be negative (0 in the paper).");
        if (SsimWeight is < 0 or > 1) throw new VigilInputException($"IGD ssim_weight={SsimWeight} must be in [0, 1] (0.85 in the paper).");
        if (LevelWeights.Count == 0) throw new VigilInputException("IGD msssim_weights needs at least one level weight.");
        if (SsimWindow < 1 || SsimWindow % 2 == 0) throw new VigilInputException($"IGD ssim_window={SsimWindow} must be odd and positive (11 in the paper).");
        if (!(DataRange > 0)) throw new VigilInputException($"IGD data_range={DataRange} must be positive (4.7579 in the paper).");
        if (InterpolationWeight < 0) throw new VigilInputException($"IGD interp_weight={InterpolationWeight} must not be negative (0.1 in the paper).");
        if (AlphaMax is < 0 or > 1) throw new VigilInputException($"IGD alpha_max={AlphaMax} must be in [0, 1] (0.5 in the paper).");
        if (CriticGamma is < 0 or > 1) throw new VigilInputException($"IGD critic_gamma={CriticGamma} must be in [0, 1] (0.2 in the paper).");
        if (CenterEpsilon < 0) throw new VigilInputException($"IGD center_eps={CenterEpsilon} must not be negative (0.1 in the paper).");
        if (CenterEvery < 1) throw new VigilInputException($"IGD center_every={CenterEvery} must be at least 1 (10 in the paper).");
        if (ReconstructionShare is < 0 or > 1) throw new VigilInputException($"IGD score_recon={ReconstructionShare} must be in [0, 1] (0.5 in the paper).");
    }
}
