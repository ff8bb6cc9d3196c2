using Vigil.Metrics;

namespace Vigil.Engine;

/// <summary>What one benchmark cell (model × dataset × category × setting × seed) produced.</summary>
/// <param name="Artifacts">Full path of the cell's artifacts folder (overlays, pixel curves; see <see cref="CellArtifacts"/>),
/// or null when the cell was run without one (and in cells saved before artifacts existed).</param>
/// <param name="Notes">What the run changed or could not do, e.g. labelled anomalies left out of training.</param>
public sealed record CellResult(
    CellKey Key,
    string Backbone,
    bool RandomWeights,
    int TrainCount,
    int TestCount,
    EvaluationResult Metrics,
    Efficiency Efficiency,
    IReadOnlyList<ImageOutcome> Images,
    IReadOnlyList<string> Notes,
    string? Artifacts = null);

/// <summary>Identifies a cell of the benchmark grid.</summary>
/// <param name="Setting">The learning setting that transformed the split, e.g. "unsupervised", "noisy-0.15", "fewshot-8".</param>
public sealed record CellKey(string Model, string Dataset, string Category, string Setting, int Seed)
{
    /// <summary>The IM-IAD default: train on normal images only.</summary>
    public const string Unsupervised = "unsupervised";

    public override string ToString() => $"{Model}/{Dataset}/{Category}/{Setting}/seed{Seed}";
}

/// <summary>
/// Cost of a cell. Latency is per Predict call (one image, preprocessing and map post-processing included), over
/// the test set after one warm-up call; throughput is images per second at the fastest batch size tried; peak memory
/// is the process's resident high-water mark from the start of the cell's fit (reset then, see <see cref="PeakMemory"/>)
/// to its end, so it includes what the process held before the cell; the model file is what <c>vigil train</c> would save.
/// </summary>
public sealed record Efficiency(
    double FitSeconds,
    double LatencyMedianMs,
    double LatencyP95Ms,
    long PeakWorkingSetBytes,
    long StateBytes,
    double ThroughputImagesPerSecond,
    int ThroughputBatchSize,
    long ModelFileBytes);

/// <summary>One test image's ground truth and score.</summary>
public sealed record ImageOutcome(string Path, bool Anomalous, string DefectType, float Score);
