using Vigil.Backbones;
using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Trained;

/// <summary>A trainer of gradient-trained detectors: also builds the untrained networks (e.g. to time another training loop on them).</summary>
public interface IGradientTrainer : IDetectorTrainer
{
    GradientTrainingOptions Options { get; }

    /// <summary>The detector with its networks initialised from <paramref name="seed"/>, untrained, on <paramref name="backbone"/>.</summary>
    TrainedDetector Create(IBackboneProvider backbone, long seed);
}

/// <summary>
/// The trainer of the detectors built on <see cref="TrainedDetector"/>: opens the run's backbone with the layers the
/// detector reads (none for a detector that brings its own networks), builds the detector's networks from the seed,
/// and trains them with <see cref="GradientTrainer"/>.
/// </summary>
public sealed class TrainedDetectorTrainer<TDetector> : IGradientTrainer where TDetector : TrainedDetector
{
    private readonly GradientTrainingOptions _options;
    private readonly Func<IBackboneProvider, long, TDetector> _create;

    public TrainedDetectorTrainer(GradientTrainingOptions options, IReadOnlyList<string> layers, Func<IFeatureExtractor, long, TDetector> create)
    {
        _options = options;
        _create = (backbone, seed) =>
        {
            var extractor = backbone.Open(layers);
            try { return create(extractor, seed); }
            catch
            {
                extractor.Dispose();
                throw;
            }
        };
    }

    /// <summary>A detector without a frozen backbone (DRAEM): the run's backbone is not opened.</summary>
    public TrainedDetectorTrainer(GradientTrainingOptions options, Func<long, TDetector> create)
    {
        _options = options;
        _create = (_, seed) => create(seed);
    }

    public GradientTrainingOptions Options => _options;

    public TrainedDetector Create(IBackboneProvider backbone, long seed) => _create(backbone, seed);

    public IDetector Fit(TrainingData data, TrainingContext context)
    {
        context.Cancel.ThrowIfCancellationRequested();
        var detector = Create(context.Backbone, context.Seed);
        try
        {
            if (detector is ISupervisedNetwork && data.Anomalies.Count == 0)
                throw new VigilInputException($"{detector.Model} learns from labelled anomalies and was given none: run it in the supervised setting " +
                    "(-s supervised:n=10, vigil train --setting supervised:n=10). The unsupervised, few-shot and noisy settings give no labelled anomalies.");
            // The run's identity for checkpoints: which model, all its options, and the exact backbone.
            string run = $"{detector.Model} {OptionSchema.For(_options.GetType()).ToJson(_options).ToJsonString()} {detector.Backbone?.ToJson().ToJsonString() ?? "(its own networks)"}";
            detector.Training = new GradientTrainer(_options).Run(detector, data, context, run);
            return detector;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }
}
