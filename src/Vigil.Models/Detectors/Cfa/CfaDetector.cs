using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Randomness;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.Cfa;

/// <summary>
/// CFA, coupled-hypersphere-based feature adaptation (Lee et al., IEEE Access 2022), as the official code computes it:
/// the frozen backbone's layer1–3 features, each averaged 3×3 and brought to layer1's grid, pass a trained 1×1
/// CoordConv descriptor (<see cref="CfaNetwork"/>). Before training, the memory gets one centroid per grid position:
/// the mean descriptor feature over the training images at that position (optionally clustered by k-means,
/// gamma_c). Training pulls each feature's K nearest centroids inside a hypersphere of trained radius r and pushes the
/// next J beyond it (<see cref="CfaNetwork.SoftBoundaryLoss"/>) with AdamW. A position's score is its nearest
/// centroid distance weighted by the softmin over its K nearest; the map is upsampled and smoothed (σ 4), the image
/// score is the smoothed map's maximum.
/// </summary>
public sealed class CfaDetector : TrainedDetector
{
    public const string ModelName = "cfa";
    /// <summary>scikit-learn's KMeans as cfa.py calls it: max_iter=3000, the default tol 1e-4.</summary>
    private const int KMeansIterations = 3000;
    private const double KMeansTolerance = 1e-4;
    private readonly int[] _layerIndices;
    private readonly CfaNetwork _network;
    private readonly long _gridHeight, _gridWidth;
    private readonly ulong _seed;

    public CfaDetector(IFeatureExtractor extractor, CfaOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        int channels = _layerIndices.Sum(i => extractor.LayerShapes[i].Channels);
        int dimension = channels / options.GammaD;
        if (dimension < 1) throw new VigilInputException($"CFA gamma_d={options.GammaD} leaves no descriptor dimension of the {channels} channels of {string.Join("+", options.Layers)}.");
        var input = extractor.Preprocessing;
        int stride = extractor.LayerShapes[_layerIndices[0]].Stride;
        (_gridHeight, _gridWidth) = ((input.OutputHeight + stride - 1) / stride, (input.OutputWidth + stride - 1) / stride);
        if (_gridHeight < 2 || _gridWidth < 2)
            throw new VigilInputException($"CFA's feature grid ({_gridHeight}×{_gridWidth} at {options.Layers[0]}) needs at least 2×2 positions for its coordinate channels; use a larger input size.");
        long centroids = _gridHeight * _gridWidth / options.GammaC;
        if (centroids < options.Nearest + options.HardNegatives)
            throw new VigilInputException($"CFA's memory of {centroids} centroids ({_gridHeight}×{_gridWidth} positions / gamma_c {options.GammaC}) is smaller than " +
                $"k + j = {options.Nearest + options.HardNegatives}; lower gamma_c, k or j.");
        _seed = (ulong)seed;
        using var generator = new Generator(_seed);
        _network = new CfaNetwork(channels, dimension, (int)centroids, options.Radius, generator);
    }

    public override string Model => ModelName;
    public new CfaOptions Options => (CfaOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("cfa", _network)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    public override string StateSummary => $"{base.StateSummary}, memory of {_network.Centroids:N0} centroids";

    /// <summary>
    /// _init_centroid: the initial descriptor's features averaged over the training images, one centroid per grid
    /// position (row-major), then, with gamma_c &gt; 1, k-means (scikit-learn's KMeans(max_iter=3000)) to ⌊positions / gamma_c⌋ centroids.
    /// </summary>
    public override void StartTraining(IEnumerable<TrainingBatch> training)
    {
        using var sum = zeros([_network.Memory.shape[1], _gridHeight, _gridWidth], ScalarType.Float64);
        long count = 0;
        foreach (var batch in training)
        {
            var features = _network.Describe(Layers(batch.Frozen));
            sum.add_(features.sum(0).to_type(ScalarType.Float64));
            count += features.shape[0];
        }
        using var scope = NewDisposeScope();
        var positions = (sum / count).to_type(ScalarType.Float32).permute(1, 2, 0).reshape(_gridHeight * _gridWidth, -1);
        if (Options.GammaC > 1)
        {
            using var generator = new Generator(SeededRandom.Derive(_seed, "k-means"));
            positions = KMeans.Centres(positions, _network.Centroids, KMeansIterations, KMeansTolerance, generator);
        }
        _network.SetMemory(positions);
    }

    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) =>
        CfaNetwork.SoftBoundaryLoss(Features(frozen), _network.Memory, _network.Radius, Options.Nearest, Options.HardNegatives, Options.Alpha, Options.Nu);

    /// <summary>The softmin-weighted nearest-centroid distance of every position, [N, h, w].</summary>
    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen) =>
        CfaNetwork.Scores(Features(frozen), _network.Memory, Options.Nearest).reshape(-1, _gridHeight, _gridWidth);

    /// <summary>The descriptor's features as rows [N, h·w, D], row-major positions.</summary>
    private Tensor Features(IReadOnlyList<Tensor> frozen)
    {
        using var scope = NewDisposeScope();
        return FeatureMaps.ToPositionRows(_network.Describe(Layers(frozen))).MoveToOuterDisposeScope();
    }

    private List<Tensor> Layers(IReadOnlyList<Tensor> frozen) => [.. _layerIndices.Select(i => frozen[i])];

    /// <summary>Rebuilds a saved CFA on <paramref name="extractor"/>.</summary>
    public static CfaDetector Restore(ModelArchiveReader archive, CfaOptions options, IFeatureExtractor extractor) =>
        Restored(new CfaDetector(extractor, options, seed: 0), archive);
}
