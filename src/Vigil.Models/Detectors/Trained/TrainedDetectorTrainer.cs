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
/// detector reads, builds the detector's networks from the seed, and trains them with <see cref="GradientTrainer"/>.
/// </summary>
public sealed class TrainedDetectorTrainer<TDetector>(GradientTrainingOptions options, IReadOnlyList<string> layers, Func<IFeatureExtractor, long, TDetector> create)
    : IGradientTrainer where TDetector : TrainedDetector
{
    public GradientTrainingOptions Options => options;

    public TrainedDetector Create(IBackboneProvider backbone, long seed)
    {
        var extractor = backbone.Open(layers);
        try { return create(extractor, seed); }
        catch
        {
            extractor.Dispose();
            throw;
        }
    }

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
            string run = $"{detector.Model} {OptionSchema.For(options.GetType()).ToJson(options).ToJsonString()} {detector.Backbone.ToJson().ToJsonString()}";
            detector.Training = new GradientTrainer(options).Run(detector, data, context, run);
            return detector;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }
}
