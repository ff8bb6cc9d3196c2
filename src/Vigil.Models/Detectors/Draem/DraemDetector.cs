using TorchSharp;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using static TorchSharp.torch;

namespace Vigil.Detectors.Draem;

/// <summary>
/// DRAEM, a discriminatively trained reconstruction embedding (Zavrtanik, Kristan and Skočaj, ICCV 2021), as the
/// official code computes it: both networks are trained from scratch (no frozen backbone) on normal images into which
/// anomalies are simulated (<see cref="DraemAnomalies"/>). The reconstructive network learns to give back the normal
/// image (L2 + SSIM loss); the discriminative network reads the reconstruction and its input side by side and learns
/// the anomaly mask (focal loss). The anomaly map is the discriminative network's softmax probability of "anomalous";
/// the image score is the maximum of that map averaged over pool × pool windows (test_DRAEM.py).
/// </summary>
public sealed class DraemDetector : TrainedDetector
{
    public const string ModelName = "draem";
    private readonly DraemReconstructive _reconstructive;
    private readonly DraemDiscriminative _discriminative;
    private readonly DraemAnomalies? _anomalies;

    /// <param name="source">The anomaly source a training draws from; null for a detector that only predicts (restored from a file).</param>
    internal DraemDetector(DraemOptions options, long seed, DraemAnomalySource? source) : base(options.Input, options)
    {
        _reconstructive = new DraemReconstructive(options.BaseWidth);
        _discriminative = new DraemDiscriminative(options.DiscriminativeWidth);
        using var generator = new Generator((ulong)seed);
        DraemLayers.Initialise(_reconstructive, generator);
        DraemLayers.Initialise(_discriminative, generator);
        _anomalies = source is null ? null : new DraemAnomalies(options, source);
    }

    public override string Model => ModelName;
    public new DraemOptions Options => (DraemOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("reconstructive", _reconstructive), ("discriminative", _discriminative)];

    public override bool NeedsImages => true;

    /// <summary>test_DRAEM.py evaluates the softmax map itself, without smoothing.</summary>
    protected override double MapSigma => 0;

    /// <summary>
    /// train_DRAEM.py's loss of a batch: each image's simulated anomaly (seeded by a draw from <paramref name="generator"/>),
    /// then MSE(reconstruction, target) + (1 − SSIM(reconstruction, target)) + focal(softmax(mask logits), mask).
    /// </summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var anomalies = _anomalies ?? throw new InvalidOperationException("A DRAEM detector read from a model file has no anomaly source and cannot be trained further.");
        int count = (int)images!.shape[0], size = Options.Size, plane = 3 * size * size;
        var seeds = randint(long.MaxValue, [count], generator: generator, dtype: ScalarType.Int64).data<long>().ToArray();
        var pixels = images.contiguous().data<float>().ToArray();
        var samples = new DraemAnomalies.Sample[count];
        Parallel.For(0, count, i => samples[i] = anomalies.Synthesize(pixels[(i * plane)..((i + 1) * plane)], (ulong)seeds[i]));
        var target = tensor(samples.SelectMany(s => s.Target).ToArray(), [count, 3, size, size]);
        var input = tensor(samples.SelectMany(s => s.Input).ToArray(), [count, 3, size, size]);
        var mask = tensor(samples.SelectMany(s => s.Mask).ToArray(), [count, 1, size, size]);

        var reconstruction = _reconstructive.forward(input);
        var probabilities = softmax(_discriminative.forward(cat([reconstruction, input], 1)), 1);
        return nn.functional.mse_loss(reconstruction, target)
            + (1 - DraemLoss.Ssim(reconstruction, target, Options.SsimWindow))
            + DraemLoss.Focal(probabilities, mask, Options.FocalGamma, Options.FocalSmooth);
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) => MapsAndScores(images, frozen).Maps;

    /// <summary>
    /// test_DRAEM.py: the map is softmax channel 1 of the discriminative network's logits on (reconstruction, image);
    /// the image score is the maximum of avg_pool2d(map, pool, stride 1, padding pool / 2) (zero padding counted).
    /// </summary>
    protected override (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var reconstruction = _reconstructive.forward(images!);
        var map = softmax(_discriminative.forward(cat([reconstruction, images!], 1)), 1)[.., 1..2];
        int pool = Options.Pool;
        var scores = nn.functional.avg_pool2d(map, pool, stride: 1, padding: pool / 2).amax([1, 2, 3]);
        return (map.squeeze(1), scores);
    }

    public override string StateSummary => base.StateSummary + $"; {Options.Size}×{Options.Size} input, anomalies from {Options.Source}";

    /// <summary>Rebuilds a saved DRAEM (both networks' state; no anomaly source, so it predicts only).</summary>
    public static DraemDetector Restore(ModelArchiveReader archive, DraemOptions options) => Restored(new DraemDetector(options, seed: 0, source: null), archive);
}
