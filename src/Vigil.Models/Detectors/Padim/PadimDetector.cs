using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using static TorchSharp.torch;

namespace Vigil.Detectors.Padim;

/// <summary>
/// PaDiM (Defard et al., ICPR 2020): a multivariate Gaussian per feature-grid position over a random subset of
/// concatenated multi-layer channels; a test position's score is its Mahalanobis distance to that Gaussian, the
/// image score the maximum of the smoothed map. Continual training also keeps each position's sample count, float64
/// mean and scatter matrix and merges a new task's into them exactly, so fitting A then B gives the Gaussians of
/// A ∪ B; a plain fit keeps only the model (less memory, cannot continue).
/// </summary>
public sealed class PadimDetector : FrozenFeatureDetector
{
    public const string ModelName = "padim";
    private const string MeanTensor = "mean", InverseCovarianceTensor = "inverse_covariance", ChannelsTensor = "channels";
    private const string CountTensor = "sample_count", RunningMeanTensor = "running_mean", ScatterTensor = "scatter";
    private readonly int[] _layerIndices;
    private Tensor? _channels, _mean, _inverseCovariance;
    private PositionGaussians? _statistics; // only after continual training

    /// <param name="seed">Seeds the random channel subset.</param>
    public PadimDetector(IFeatureExtractor extractor, PadimOptions? options = null, long seed = 0) : base(extractor, options ?? new PadimOptions())
    {
        Options.Validate();
        _seed = seed;
        _layerIndices = FeatureMaps.LayerIndices(extractor, Options.Layers, ModelName);
        TotalChannels = _layerIndices.Sum(i => extractor.LayerShapes[i].Channels);
        Dimensions = Options.Dimensions ?? DefaultDimensions(TotalChannels);
        if (Dimensions > TotalChannels)
            throw new VigilInputException($"PaDiM dimensions {Dimensions} exceed the {TotalChannels} channels of layers {string.Join(", ", Options.Layers)}; choose at most {TotalChannels}.");
    }

    private readonly long _seed;

    /// <summary>
    /// The reference's d by backbone: 100 of ResNet18's 448 layer1–3 channels, 550 of WideResNet50's 1792 (ResNet50 has
    /// the same channels); min(100, channels) for any other backbone.
    /// </summary>
    public static int DefaultDimensions(int totalChannels) => totalChannels == 1792 ? 550 : Math.Min(100, totalChannels);

    public override string Model => ModelName;
    public new PadimOptions Options => (PadimOptions)base.Options;

    public override string StateSummary => $"Gaussians over {Dimensions} of {TotalChannels} channels at {_mean?.shape[0] ?? 0:N0} positions";

    /// <summary>Channels of the concatenated layers, and the size d of the random subset kept.</summary>
    public int TotalChannels { get; }
    public int Dimensions { get; }

    protected override double MapSigma => Options.MapSigma;
    /// <summary>True when the detector keeps the running statistics continual training continues from.</summary>
    public bool CanFitMore => _statistics is not null;

    /// <summary>The fitted Gaussians (owned by the detector): chosen channels, mean [P, D], inverse covariance [P, D, D]; what ONNX export stores.</summary>
    internal (Tensor Channels, Tensor Mean, Tensor InverseCovariance) Gaussians =>
        _mean is null ? throw new InvalidOperationException("PaDiM is not fitted.") : (_channels!, _mean, _inverseCovariance!);

    protected override IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            if (_mean is null) return new Dictionary<string, Tensor>();
            var state = new Dictionary<string, Tensor> { [ChannelsTensor] = _channels!, [MeanTensor] = _mean, [InverseCovarianceTensor] = _inverseCovariance! };
            if (_statistics is not null)
            {
                state[CountTensor] = _sampleCount!;
                state[RunningMeanTensor] = _statistics.Mean;
                state[ScatterTensor] = _statistics.Scatter;
            }
            return state;
        }
    }

    /// <summary>The running sample count as a one-element tensor, so it is saved with the other state.</summary>
    private Tensor? _sampleCount;

    internal override void Learn(IReadOnlyList<Sample> images, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        if (continual) LearnMore(images, WorkProgress.ForPhase(progress, "features"), cancel);
        else Fit(images, WorkProgress.ForPhase(progress, "features"), cancel);
    }

    private void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress, CancellationToken cancel)
    {
        RequireTrainingImages(train, 2);
        using var noGrad = no_grad();
        using var channels = ChooseChannels();
        using var statistics = Accumulate(train, channels, progress, cancel);
        var (mean, inverse) = statistics.ToModel(Options.Regularisation);
        DisposeState();
        (_statistics, _sampleCount) = (null, null);
        _channels = Keep(channels.clone());
        _mean = Keep(mean);
        _inverseCovariance = Keep(inverse);
    }

    /// <summary>
    /// Merges the new images' per-position statistics into the running ones (on an unfitted detector: starts them,
    /// which needs at least 2 images) and recomputes the model from the merged statistics. The new images' statistics
    /// are complete before anything is merged, so a corrupt image or a cancellation leaves the model as it was.
    /// </summary>
    private void LearnMore(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress, CancellationToken cancel)
    {
        if (IsFitted && _statistics is null)
            throw new VigilInputException(
                "This PaDiM model was fitted for one task, which keeps no running statistics, so it cannot learn more images; fit it in the continual setting from the start.");
        RequireTrainingImages(train, _statistics is null ? 2 : 1);
        using var noGrad = no_grad();
        var channels = _channels ?? ChooseChannels();
        PositionGaussians? added = null;
        try
        {
            added = Accumulate(train, channels, progress, cancel);
            if (_mean is not null) RequireSameGrid(_mean.shape[0], added.Mean.shape[0], "the new training images");
            _statistics?.Add(added);
            var statistics = _statistics ?? added;
            var (mean, inverse) = statistics.ToModel(Options.Regularisation);
            foreach (var t in new[] { _mean, _inverseCovariance, _sampleCount }) t?.Dispose();
            if (!ReferenceEquals(channels, _channels)) _channels = Keep(channels);
            (_mean, _inverseCovariance, _sampleCount) = (Keep(mean), Keep(inverse), Keep(tensor(new[] { statistics.Count })));
            if (_statistics is null) (_statistics, added) = (added, null);
        }
        finally
        {
            added?.Dispose();
            if (!ReferenceEquals(channels, _channels)) channels.Dispose();
        }
    }

    /// <summary>
    /// The per-position statistics of the images, accumulated batch by batch in place with the exact pairwise merge, so
    /// fitting holds one batch of embeddings and one float64 scatter tensor however many images there are (the
    /// reference keeps every embedding: ~1 GB for MTD's 762 images at d = 100).
    /// </summary>
    private PositionGaussians Accumulate(IReadOnlyList<Sample> train, Tensor channels, IProgress<(int Done, int Total)>? progress, CancellationToken cancel)
    {
        PositionGaussians? statistics = null;
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, train, Options.BatchSize, progress, cancel, layers =>
            {
                var embeddings = Embed(layers, channels);
                statistics ??= PositionGaussians.Empty(embeddings.shape[1], embeddings.shape[2]);
                statistics.AddSamples(embeddings);
            });
            return statistics!;
        }
        catch
        {
            statistics?.Dispose();
            throw;
        }
    }

    /// <summary>The seeded random channel subset, sorted (order does not change a Mahalanobis distance).</summary>
    private Tensor ChooseChannels()
    {
        var generator = new Generator((ulong)_seed);
        return randperm(TotalChannels, generator: generator).narrow(0, 0, Dimensions).sort().Values;
    }

    /// <summary>Layers nearest-upsampled to the first layer's grid (the reference's embedding_concat), concatenated, subset: [B, h·w, d].</summary>
    private Tensor Embed(IReadOnlyList<Tensor> layers, Tensor channels)
    {
        using var scope = NewDisposeScope();
        var joined = FeatureMaps.ConcatenateOnGrid(_layerIndices.Select(i => layers[i]).ToList(), InterpolationMode.Nearest);
        return FeatureMaps.ToPositionRows(joined.index_select(1, channels)).MoveToOuterDisposeScope();
    }

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var first = layers[_layerIndices[0]];
        var embedding = Embed(layers, _channels!);
        RequireSameGrid(_mean!.shape[0], embedding.shape[1], "this image");
        var distances = Mahalanobis.Distances(embedding, _mean, _inverseCovariance!);
        return (distances[0].reshape(first.shape[2], first.shape[3]), null);
    }

    internal static PadimDetector Restore(ModelArchiveReader archive, PadimOptions options, IFeatureExtractor extractor)
    {
        var detector = new PadimDetector(extractor, options);
        detector._channels = archive.ReadTensor(ChannelsTensor, 1);
        detector._mean = archive.ReadTensor(MeanTensor, 2);
        detector._inverseCovariance = archive.ReadTensor(InverseCovarianceTensor, 3);
        var count = archive.TryReadTensor(CountTensor, 1);
        var runningMean = archive.TryReadTensor(RunningMeanTensor, 2);
        var scatter = archive.TryReadTensor(ScatterTensor, 3);
        long d = detector.Dimensions;
        string? problem =
            detector._channels.shape[0] != d || detector._mean.shape[1] != d || detector._inverseCovariance.shape[1] != d
            || detector._inverseCovariance.shape[2] != d || detector._inverseCovariance.shape[0] != detector._mean.shape[0]
                ? $"the PaDiM statistics do not have the {d} dimensions the options give"
            : (count is null) != (runningMean is null) || (count is null) != (scatter is null)
                ? "only part of the PaDiM running statistics is present"
            : count is not null && (count.shape[0] != 1 || count.dtype != ScalarType.Int64 || runningMean!.dtype != ScalarType.Float64
                                    || scatter!.dtype != ScalarType.Float64 || !runningMean.shape.SequenceEqual(detector._mean.shape)
                                    || !scatter.shape.SequenceEqual(detector._inverseCovariance.shape))
                ? "the PaDiM running statistics do not match the model's shape"
            : null;
        if (problem != null)
            foreach (var t in new[] { count, runningMean, scatter }) t?.Dispose();
        Checked(detector, archive, problem);
        if (count is not null)
        {
            detector._sampleCount = count;
            detector._statistics = PositionGaussians.FromSaved(count[0].item<long>(), runningMean!, scatter!);
        }
        return detector;
    }
}
