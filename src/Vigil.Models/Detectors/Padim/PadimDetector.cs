using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Building;
using Vigil.Data;
using static TorchSharp.torch;

namespace Vigil.Detectors;

/// <summary>
/// PaDiM (Defard et al., ICPR 2020): a multivariate Gaussian per feature-grid position over a random subset of
/// concatenated multi-layer channels; a test position's score is its Mahalanobis distance to that Gaussian, the
/// image score the maximum of the smoothed map.
/// </summary>
public sealed class PadimDetector : FeatureEmbeddingDetector
{
    public const string ModelName = "padim";
    private const string MeanTensor = "mean", InverseCovarianceTensor = "inverse_covariance", ChannelsTensor = "channels";
    private readonly int[] _layerIndices;
    private Tensor? _channels, _mean, _inverseCovariance;

    public PadimDetector(IFeatureExtractor extractor, PadimOptions? options = null) : base(extractor)
    {
        Options = options ?? new PadimOptions();
        Options.Validate();
        _layerIndices = FeatureMaps.LayerIndices(extractor, Options.Layers, ModelName);
        TotalChannels = _layerIndices.Sum(i => extractor.LayerShapes[i].Channels);
        Dimensions = Options.Dimensions ?? Math.Min(100, TotalChannels);
        if (Dimensions > TotalChannels)
            throw new VigilInputException($"PaDiM dimensions {Dimensions} exceed the {TotalChannels} channels of layers {string.Join(", ", Options.Layers)}; choose at most {TotalChannels}.");
    }

    public override string Name => ModelName;
    public PadimOptions Options { get; }

    /// <summary>Channels of the concatenated layers, and the size d of the random subset kept.</summary>
    public int TotalChannels { get; }
    public int Dimensions { get; }

    protected override double MapSigma => Options.MapSigma;
    protected override IReadOnlyDictionary<string, Tensor> State =>
        _mean is null ? new Dictionary<string, Tensor>()
            : new Dictionary<string, Tensor> { [ChannelsTensor] = _channels!, [MeanTensor] = _mean, [InverseCovarianceTensor] = _inverseCovariance! };

    public override void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null)
    {
        RequireTrainingImages(train, 2, ModelName);
        using var noGrad = no_grad();
        using var channels = ChooseChannels();
        var batches = new List<Tensor>();
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, train, Options.BatchSize, progress, layers => batches.Add(Keep(Embed(layers, channels))));
            using var scope = NewDisposeScope();
            var (mean, inverse) = Mahalanobis.Fit(cat(batches, 0), Options.Regularisation);
            DisposeState();
            _channels = Keep(channels.clone());
            _mean = Keep(mean);
            _inverseCovariance = Keep(inverse);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>The seeded random channel subset, sorted (order does not change a Mahalanobis distance).</summary>
    private Tensor ChooseChannels()
    {
        var generator = new Generator((ulong)Options.Seed);
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
        if (embedding.shape[1] != _mean!.shape[0])
            throw new VigilInputException(
                $"PaDiM was fitted on a {_mean.shape[0]}-position feature grid but this image gives {embedding.shape[1]}; the backbone's preprocessing must match the fitted model.");
        var distances = Mahalanobis.Distances(embedding, _mean, _inverseCovariance!);
        return (distances[0].reshape(first.shape[2], first.shape[3]), null);
    }

    protected override JsonNode OptionsJson() => ModelFile.OptionsToJson(Options);

    internal static PadimDetector Restore(ModelFile.Content content, IFeatureExtractor extractor, string path)
    {
        var detector = new PadimDetector(extractor, ModelFile.OptionsAs<PadimOptions>(content, path));
        detector._channels = Take(content, ChannelsTensor, path, 1);
        detector._mean = Take(content, MeanTensor, path, 2);
        detector._inverseCovariance = Take(content, InverseCovarianceTensor, path, 3);
        long d = detector.Dimensions;
        if (detector._channels.shape[0] != d || detector._mean.shape[1] != d || detector._inverseCovariance.shape[1] != d
            || detector._inverseCovariance.shape[2] != d || detector._inverseCovariance.shape[0] != detector._mean.shape[0])
        {
            detector.DisposeState(); // the caller disposes the extractor it resolved
            throw ModelFile.Corrupt(path, $"the PaDiM statistics do not have the {d} dimensions the options give");
        }
        return detector;
    }
}
