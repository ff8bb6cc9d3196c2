using Vigil.Backbones;

namespace Vigil.Detectors.FrozenFeatures;

/// <summary>
/// The trainer of the frozen-feature detectors: opens the run's backbone with the layers the detector reads, passes
/// the normal training images through it once and lets the detector finalise its state (coreset, statistics,
/// gallery). Continual training continues the same detector (same backbone and grid) with the next task's images.
/// </summary>
public sealed class FrozenFeatureTrainer<TDetector>(IReadOnlyList<string> layers, Func<IFeatureExtractor, long, TDetector> create)
    : IContinualTrainer where TDetector : FrozenFeatureDetector
{
    public IDetector Fit(TrainingData data, TrainingContext context) => Learn(null, data, context, continual: false);

    public IDetector FitMore(IDetector? fitted, TrainingData data, TrainingContext context) => Learn(fitted, data, context, continual: true);

    private TDetector Learn(IDetector? fitted, TrainingData data, TrainingContext context, bool continual)
    {
        context.Cancel.ThrowIfCancellationRequested();
        var detector = fitted switch
        {
            null => Create(context),
            TDetector same => same,
            _ => throw new ArgumentException($"Continual training of {typeof(TDetector).Name} cannot continue a {fitted.GetType().Name}.", nameof(fitted)),
        };
        try
        {
            detector.Learn(data.Normal, continual, context.Progress, context.Cancel);
            return detector;
        }
        catch
        {
            if (fitted is null) detector.Dispose();
            throw;
        }
    }

    private TDetector Create(TrainingContext context)
    {
        var extractor = context.Backbone.Open(layers);
        try { return create(extractor, context.Seed); }
        catch
        {
            extractor.Dispose();
            throw;
        }
    }
}
