using TorchSharp;
using Vigil.Backbones;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.Igd;

/// <summary>
/// IGD, the interpolated Gaussian descriptor (Chen, Tian, Pang and Carneiro, AAAI 2022), as the official p256 code
/// computes it. The frozen ImageNet ResNet18's pooled layer4 features go through a trained linear head to a latent
/// code z, which a decoder turns back into the (normalised) image. The generator (head and decoder) learns
/// 0.85 (1 − MS-SSIM) + 0.15 L1 / range of the reconstruction, plus the Gaussian descriptor's loss
/// mean(1 − exp(−‖z − c‖² / σ)), plus 0.1 · mean(critic(decode(α z + (1 − α) z'))²) for interpolations with the batch
/// in reverse order (α uniform in [0, 0.5)); then the critic learns to give α on those interpolations and 0 on
/// reconstructions moved 0.2 of the way to the image (ACAI-style). c is the mean code (coordinates within ±0.1 of 0
/// pushed to ±0.1) and σ the mean over batches of max(mean ‖z − c‖², 1), both taken before training and every 10 epochs.
/// An image's score is 0.5 · its reconstruction error + 0.5 · its Gaussian score (ssim_main.py's validation); its map is
/// inference_loc.py's residual map: relu(0.85 Σ_l w_l (1 − SSIM map_l, nearest-upsampled) + 0.15 |x − x̂| / range) in
/// grey (0.2989 R + 0.587 G + 0.114 B).
/// </summary>
public sealed class IgdDetector : TrainedDetector, IAlternatingNetwork
{
    public const string ModelName = "igd";
    public const string Layer = "layer4";
    private const string GeneratorName = "generator", CriticName = "critic";
    private static readonly float[] GreyWeights = [0.2989f, 0.5870f, 0.1140f]; // inference_loc.py's rgb2gray
    private readonly IgdGenerator _generator;
    private readonly IgdCritic _critic;
    private readonly IReadOnlyList<double> _levelWeights;

    public IgdDetector(IFeatureExtractor backbone, IgdOptions options, long seed) : base(backbone, options)
    {
        int layer = FeatureMapsIndex(backbone);
        int height = Preprocessing.OutputHeight, width = Preprocessing.OutputWidth;
        if (height % 64 != 0 || width % 64 != 0 || height < 64 || width < 64)
            throw new VigilInputException($"IGD's decoder doubles a grid six times and its critic halves the image six times: the network input {height}×{width} must be a multiple of 64 on each side (256×256 in the paper); set the backbone's resize/crop accordingly.");
        int smallest = Math.Min(height, width) >> (options.LevelWeights.Count - 1);
        if (smallest < options.SsimWindow)
            throw new VigilInputException($"IGD's MS-SSIM of {options.LevelWeights.Count} levels halves the {height}×{width} input to {smallest} pixels, smaller than its {options.SsimWindow}-pixel window: use a larger input or fewer msssim_weights.");
        _levelWeights = options.LevelWeights;
        _generator = new IgdGenerator(backbone.LayerShapes[layer].Channels, options.Latent, options.Width, height, width);
        _critic = new IgdCritic(options.Width, height, width);
        using var generator = new Generator((ulong)seed);
        IgdInitialisation.Initialise(_generator, generator);
        IgdInitialisation.Initialise(_critic, generator);
    }

    public override string Model => ModelName;
    public new IgdOptions Options => (IgdOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [(GeneratorName, _generator), (CriticName, _critic)];

    /// <summary>The critic's Adam: the generator's settings without weight decay (optimizer_d).</summary>
    public override IReadOnlyDictionary<string, OptimizerSettings> OwnOptimizers => new Dictionary<string, OptimizerSettings>
    {
        [CriticName] = new(Options.Optimizer, Options.LearningRate, Options.CriticWeightDecay, Options.Beta1, Options.Beta2, Options.Momentum),
    };

    public override bool NeedsImages => true;

    /// <summary>inference_loc.py uses the residual map as it is.</summary>
    protected override double MapSigma => 0;

    /// <summary>The generator's loss (its label-free loss and the validation loss).</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => GeneratorLoss(images!, frozen[0], generator).Loss;

    /// <summary>ssim_main.py's iteration: the generator's step, then the critic's on the interpolations and reconstructions after it.</summary>
    public void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor, IReadOnlyCollection<string>> step)
    {
        var x = images!;
        var (loss, interpolated, alpha) = GeneratorLoss(x, frozen[0], generator);
        step(loss, [GeneratorName]);
        Tensor decoded, reconstruction;
        using (no_grad())
        {
            decoded = _generator.Decode(interpolated.detach());
            reconstruction = _generator.forward(frozen[0]);
        }
        step(CriticLoss(_critic.forward(decoded), alpha, _critic.forward(reconstruction + Options.CriticGamma * (x - reconstruction))), [CriticName]);
    }

    /// <summary>
    /// The critic's loss: mean((critic(interpolation) − α)²) + mean(critic(moved reconstruction)²), the first with the
    /// official broadcast of values [N] against α [N, 1]: the mean over all N × N pairs (i, j) of (value_i − α_j)².
    /// </summary>
    public static Tensor CriticLoss(Tensor interpolationValues, Tensor alpha, Tensor reconstructionValues) =>
        (interpolationValues - alpha).square().mean() + reconstructionValues.square().mean();

    /// <summary>The generator's loss, the interpolated codes and their α [N, 1].</summary>
    private (Tensor Loss, Tensor Interpolated, Tensor Alpha) GeneratorLoss(Tensor images, Tensor layer4, Generator generator)
    {
        var latent = _generator.Encode(layer4);
        var reconstruction = _generator.Decode(latent);
        var (similarity, _) = IgdSimilarity.MultiScale(images, reconstruction, Options.DataRange, Options.SsimWindow, _levelWeights);
        var reconstructionLoss = Options.SsimWeight * (1 - similarity.mean())
            + (1 - Options.SsimWeight) * (images - reconstruction).abs().mean() / Options.DataRange;
        var alpha = rand([latent.shape[0], 1], generator: generator) * Options.AlphaMax;
        var interpolated = alpha * latent + (1 - alpha) * latent.flip(0);
        var regulariser = _critic.forward(_generator.Decode(interpolated)).square().mean();
        var loss = reconstructionLoss + _generator.GaussianScore(latent).mean() + Options.InterpolationWeight * regulariser;
        return (loss, interpolated, alpha);
    }

    /// <summary>init_c then init_sigma (σ about the new centre).</summary>
    public override void StartTraining(IEnumerable<TrainingBatch> training)
    {
        var latents = Latents(training);
        _generator.SetDescriptor(Center(latents), null);
        _generator.SetDescriptor(null, Sigma(latents, _generator.Center));
    }

    /// <summary>Every center_every epochs (not after the last): init_sigma about the current centre, then init_c, as ssim_main.py orders them.</summary>
    public override void FinishEpoch(int epochsDone, IEnumerable<TrainingBatch> training)
    {
        if (epochsDone % Options.CenterEvery != 0 || epochsDone >= Options.Epochs) return;
        var latents = Latents(training);
        _generator.SetDescriptor(null, Sigma(latents, _generator.Center));
        _generator.SetDescriptor(Center(latents), null);
    }

    /// <summary>The latent codes of the training images, batch by batch (σ averages per batch).</summary>
    private List<Tensor> Latents(IEnumerable<TrainingBatch> training) =>
        training.Select(batch => _generator.Encode(batch.Frozen[0]).MoveToOuterDisposeScope()).ToList();

    /// <summary>init_c: the mean code, coordinates within ±eps of 0 (but not 0) pushed to ±eps.</summary>
    public Tensor Center(IReadOnlyList<Tensor> latents) => CenterOf(cat(latents.ToArray()), Options.CenterEpsilon);

    /// <summary>init_c's centre of codes [N, latent].</summary>
    public static Tensor CenterOf(Tensor latents, double epsilon)
    {
        var c = latents.mean([0], keepdim: true);
        var near = c.abs() < epsilon;
        c = where(near & (c < 0), full_like(c, -epsilon), c);
        return where(near & (c > 0), full_like(c, epsilon), c);
    }

    /// <summary>init_sigma: the mean over batches of the batch's mean ‖z − c‖², each at least 1.</summary>
    public static Tensor Sigma(IReadOnlyList<Tensor> latents, Tensor center) =>
        stack(latents.Select(z => (z - center).square().sum(1).mean().clamp_min(1)).ToArray()).mean();

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => MapsAndScores(images, frozen).Maps;

    protected override (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var x = images!;
        var latent = _generator.Encode(frozen[0]);
        var reconstruction = _generator.Decode(latent);
        var (similarity, levelMaps) = IgdSimilarity.MultiScale(x, reconstruction, Options.DataRange, Options.SsimWindow, _levelWeights);
        var error = (x - reconstruction).abs() / Options.DataRange;
        double w = Options.SsimWeight, share = Options.ReconstructionShare;
        var reconstructionScore = w * (1 - similarity) + (1 - w) * error.mean([1, 2, 3]);
        var scores = share * reconstructionScore + (1 - share) * _generator.GaussianScore(latent);
        long height = x.shape[2], width = x.shape[3];
        Tensor dissimilarity = zeros_like(x);
        for (int l = 0; l < levelMaps.Count; l++)
            dissimilarity += _levelWeights[l] * (1 - nn.functional.interpolate(levelMaps[l], [height, width], mode: InterpolationMode.Nearest));
        var residual = nn.functional.relu(w * dissimilarity + (1 - w) * error);
        var maps = (residual * tensor(GreyWeights).view(1, 3, 1, 1)).sum(1);
        return (maps, scores);
    }

    public override string StateSummary => base.StateSummary + $"; latent {Options.Latent}, σ {_generator.Sigma.item<float>():G4}";

    private static int FeatureMapsIndex(IFeatureExtractor backbone) => Components.FeatureMaps.LayerIndices(backbone, [Layer], ModelName)[0];

    /// <summary>Rebuilds a saved IGD (generator with its descriptor, and critic) on its backbone.</summary>
    public static IgdDetector Restore(ModelArchiveReader archive, IgdOptions options, IFeatureExtractor backbone) =>
        Restored(new IgdDetector(backbone, options, seed: 0), archive);
}
