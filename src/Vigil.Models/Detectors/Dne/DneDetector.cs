using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Randomness;
using static TorchSharp.torch;

namespace Vigil.Detectors.Dne;

/// <summary>
/// DNE (Li et al., ACM MM 2022): an image is one L2-normalised embedding (the global average pool of a backbone
/// layer); each task's training embeddings give a Gaussian (mean and Ledoit–Wolf covariance) that is stored with the
/// task's image count. After each task the scoring Gaussian is refitted on embeddings replayed from every earlier
/// task's Gaussian plus the new task's own (methods/dne.py, training_epoch), and a test image's score is its
/// Mahalanobis distance to it. Image-level: the map is that one score everywhere (no localisation).
/// </summary>
public sealed class DneDetector : FrozenFeatureDetector
{
    public const string ModelName = "dne";
    private const string TaskMeanTensor = "task_mean", TaskCovarianceTensor = "task_covariance", TaskPrecisionTensor = "task_precision";
    private const string TaskCountTensor = "task_count", MeanTensor = "mean", PrecisionTensor = "precision";
    private readonly int _layerIndex;
    private readonly long _seed;
    private Tensor? _taskMeans, _taskCovariances, _taskPrecisions, _taskCounts; // [T, D], [T, D, D], [T, D, D], [T] int64
    private Tensor? _mean, _precision; // the scoring Gaussian; none with task scoring

    /// <param name="seed">Seeds the embeddings replayed from earlier tasks' Gaussians.</param>
    public DneDetector(IFeatureExtractor extractor, DneOptions? options = null, long seed = 0) : base(extractor, options ?? new DneOptions())
    {
        Options.Validate();
        _seed = seed;
        _layerIndex = FeatureMaps.LayerIndices(extractor, [Options.Layer], ModelName)[0];
        Dimensions = extractor.LayerShapes[_layerIndex].Channels;
    }

    public override string Model => ModelName;
    public new DneOptions Options => (DneOptions)base.Options;

    /// <summary>Length D of an image embedding (the layer's channels).</summary>
    public int Dimensions { get; }

    /// <summary>Tasks learned so far.</summary>
    public int TaskCount => (int)(_taskCounts?.shape[0] ?? 0);

    public override string StateSummary => $"{Counted.Of(TaskCount, "task Gaussian")} over {Dimensions} dimensions, {Options.Scoring.ToString().ToLowerInvariant()} scoring";

    // The map is the image score everywhere: smoothing a constant changes nothing.
    protected override double MapSigma => 0;

    protected override IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            if (_taskCounts is null) return new Dictionary<string, Tensor>();
            var state = new Dictionary<string, Tensor>
            {
                [TaskMeanTensor] = _taskMeans!, [TaskCovarianceTensor] = _taskCovariances!, [TaskPrecisionTensor] = _taskPrecisions!, [TaskCountTensor] = _taskCounts,
            };
            if (_mean is not null) (state[MeanTensor], state[PrecisionTensor]) = (_mean, _precision!);
            return state;
        }
    }

    /// <summary>
    /// Adds the images as a new task (a plain fit: the only task). Everything is computed before the state changes, so
    /// a corrupt image or a cancellation leaves the detector as it was.
    /// </summary>
    internal override void Learn(IReadOnlyList<Sample> images, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        RequireTrainingImages(images, 2);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var embeddings = Embeddings(images, WorkProgress.ForPhase(progress, "features"), cancel);
        var (mean, covariance, precision) = LedoitWolf.Fit(embeddings);
        bool earlier = continual && TaskCount > 0;
        var means = Append(earlier ? _taskMeans : null, mean);
        var covariances = Append(earlier ? _taskCovariances : null, covariance);
        var precisions = Append(earlier ? _taskPrecisions : null, precision);
        var counts = Append(earlier ? _taskCounts : null, tensor((long)images.Count));
        (Tensor Mean, Tensor Precision)? scoring = null; // task scoring uses the task Gaussians only
        if (Options.Scoring == DneScoring.Replay)
        {
            var (replayedMean, _, replayedPrecision) = LedoitWolf.Fit(Replayed(embeddings, means, covariances, counts));
            scoring = (replayedMean, replayedPrecision);
        }
        else if (Options.Scoring == DneScoring.Current) scoring = (mean, precision);
        cancel.ThrowIfCancellationRequested();
        DisposeState();
        (_taskMeans, _taskCovariances, _taskPrecisions, _taskCounts) = (Keep(means), Keep(covariances), Keep(precisions), Keep(counts));
        (_mean, _precision) = scoring is { } chosen ? (Keep(chosen.Mean), Keep(chosen.Precision)) : (null, null);
    }

    private static Tensor Append(Tensor? stacked, Tensor row) => stacked is null ? row.unsqueeze(0) : cat([stacked, row.unsqueeze(0)], 0);

    /// <summary>The L2-normalised embeddings [N, D] of the images (F.normalize of the pooled features, as the reference before fitting).</summary>
    private Tensor Embeddings(IReadOnlyList<Sample> images, IProgress<(int Done, int Total)>? progress, CancellationToken cancel)
    {
        var batches = new List<Tensor>();
        FeatureMaps.ExtractInBatches(Extractor, images, Options.BatchSize, progress, cancel,
            layers => batches.Add(Embed(layers).MoveToOuterDisposeScope()));
        return cat(batches, 0);
    }

    private Tensor Embed(IReadOnlyList<Tensor> layers) =>
        nn.functional.normalize(layers[_layerIndex].mean([2, 3]), p: 2, dim: 1);

    /// <summary>
    /// The reference's training_epoch: for every earlier task as many embeddings as it had training images, drawn from
    /// its Gaussian (np.random.multivariate_normal, here seeded from the detector's seed and the task count), then the
    /// newest task's own, all L2-normalised again.
    /// </summary>
    private Tensor Replayed(Tensor current, Tensor means, Tensor covariances, Tensor counts)
    {
        long tasks = counts.shape[0];
        using var generator = new Generator(SeededRandom.Derive((ulong)_seed, tasks));
        var parts = new List<Tensor>();
        for (long t = 0; t < tasks - 1; t++)
            parts.Add(Sample(means[t], covariances[t], counts[t].item<long>(), generator));
        parts.Add(current);
        return nn.functional.normalize(cat(parts, 0), p: 2, dim: 1);
    }

    /// <summary>Rows of N(mean, covariance) from the covariance's eigendecomposition (as numpy, a factorisation that allows a singular covariance).</summary>
    private static Tensor Sample(Tensor mean, Tensor covariance, long count, Generator generator)
    {
        var (values, vectors) = linalg.eigh(covariance.to_type(ScalarType.Float64));
        var root = vectors * values.clamp_min(0).sqrt(); // V·Λ^½: root·rootᵀ = Σ
        var z = randn([count, mean.shape[0]], dtype: ScalarType.Float64, generator: generator);
        return (mean.to_type(ScalarType.Float64) + z.matmul(root.t())).to_type(ScalarType.Float32);
    }

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var embedding = Embed(layers);
        var score = _mean is null
            ? TaskDistances(embedding).min(1).values
            : Mahalanobis.Distances(embedding.unsqueeze(1), _mean.unsqueeze(0), _precision!.unsqueeze(0))[.., 0];
        return (score.reshape(1, 1), score.item<float>());
    }

    /// <summary>Mahalanobis distances [B, T] of embeddings [B, D] to every task's Gaussian.</summary>
    private Tensor TaskDistances(Tensor embeddings) =>
        Mahalanobis.Distances(embeddings.unsqueeze(1).expand(-1, TaskCount, -1), _taskMeans!, _taskPrecisions!);

    /// <summary>For each image, the task whose Gaussian is nearest (0-based, in learning order): the task scoring's identification.</summary>
    public int[] IdentifyTasks(IReadOnlyList<ImageTensor> images)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Model}: fit the detector before identifying tasks.");
        var rgb = images.Select((image, i) => ImageOps.ToRgb(image, $"Image #{i}")).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var nearest = TaskDistances(Embed(Extractor.Extract(rgb))).argmin(1);
        return [.. nearest.data<long>().Select(t => (int)t)];
    }

    internal static DneDetector Restore(ModelArchiveReader archive, DneOptions options, IFeatureExtractor extractor)
    {
        var detector = new DneDetector(extractor, options);
        detector._taskMeans = archive.ReadTensor(TaskMeanTensor, 2);
        detector._taskCovariances = archive.ReadTensor(TaskCovarianceTensor, 3);
        detector._taskPrecisions = archive.ReadTensor(TaskPrecisionTensor, 3);
        detector._taskCounts = archive.ReadTensor(TaskCountTensor, 1);
        detector._mean = archive.TryReadTensor(MeanTensor, 1);
        detector._precision = archive.TryReadTensor(PrecisionTensor, 2);
        long d = detector.Dimensions, tasks = detector._taskCounts.shape[0];
        string? problem =
            !detector._taskMeans.shape.SequenceEqual([tasks, d]) || !detector._taskCovariances.shape.SequenceEqual([tasks, d, d])
            || !detector._taskPrecisions.shape.SequenceEqual([tasks, d, d]) || tasks == 0
                ? $"the DNE task statistics do not have the {d} dimensions of layer {options.Layer}"
            : (options.Scoring == DneScoring.Task) != (detector._mean is null) || (detector._mean is null) != (detector._precision is null)
                ? $"the DNE scoring Gaussian does not match {options.Scoring.ToString().ToLowerInvariant()} scoring"
            : detector._mean is not null && (detector._mean.shape[0] != d || !detector._precision!.shape.SequenceEqual([d, d]))
                ? "the DNE scoring Gaussian does not match the task statistics"
            : null;
        return Checked(detector, archive, problem);
    }
}
