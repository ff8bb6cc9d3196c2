using Vigil.Backbones;
using Vigil.Detectors.Options;
using Vigil.Training;

namespace Vigil.Detectors.Trained;

/// <summary>
/// The trainer of the detectors built on <see cref="TrainedDetector"/>: opens the run's backbone with the layers the
/// detector reads, builds the detector's networks from the seed, and trains them with <see cref="GradientTrainer"/>.
/// </summary>
public sealed class TrainedDetectorTrainer<TDetector>(GradientTrainingOptions options, IReadOnlyList<string> layers, Func<IFeatureExtractor, long, TDetector> create)
    : IDetectorTrainer where TDetector : TrainedDetector
{
    public IDetector Fit(TrainingData data, TrainingContext context)
    {
        context.Cancel.ThrowIfCancellationRequested();
        var extractor = context.Backbone.Open(layers);
        TDetector detector;
        try { detector = create(extractor, context.Seed); }
        catch
        {
            extractor.Dispose();
            throw;
        }
        try
        {
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
