using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using static TorchSharp.torch;

namespace Vigil.Detectors.Spade;

/// <summary>
/// SPADE (Cohen and Hoshen, 2020), as its reference code computes it: the image score is the mean Euclidean distance
/// of the image's global feature to its K nearest training images; for each pyramid layer separately, each position's
/// score is the Euclidean distance of its feature to the nearest feature at any position of those K images' same
/// layer, and the pixel map is the mean of the layers' maps upsampled to the network input. Continual training
/// appends the new training images' features, so fitting A then B gives exactly the model fitted on A followed by B.
/// </summary>
public sealed class SpadeDetector : FrozenFeatureDetector, IMemoryBankDetector
{
    public const string ModelName = "spade";
    private const string GlobalTensor = "global_features";
    private readonly int _globalIndex;
    private readonly int[] _pyramidIndices;
    private Tensor? _global;      // [N, C]
    private Tensor[]? _pyramid;   // per pyramid layer [N, h·w, C] at the layer's own resolution

    public SpadeDetector(IFeatureExtractor extractor, SpadeOptions? options = null) : base(extractor, options ?? new SpadeOptions())
    {
        Options.Validate();
        _globalIndex = FeatureMaps.LayerIndices(extractor, [Options.GlobalLayer], ModelName)[0];
        _pyramidIndices = FeatureMaps.LayerIndices(extractor, Options.PyramidLayers, ModelName);
    }

    public override string Model => ModelName;
    public new SpadeOptions Options => (SpadeOptions)base.Options;

    public override string StateSummary => $"{_global?.shape[0] ?? 0:N0} training images' global features and {Options.PyramidLayers.Count} feature maps each";

    protected override double MapSigma => Options.MapSigma;

    protected override IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            var state = new Dictionary<string, Tensor>();
            if (_global is null) return state;
            state[GlobalTensor] = _global;
            for (int l = 0; l < _pyramid!.Length; l++) state[PyramidTensor(Options.PyramidLayers[l])] = _pyramid[l];
            return state;
        }
    }

    private static string PyramidTensor(string layer) => $"pyramid_{layer}";

    internal override void Learn(IReadOnlyList<Sample> train, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        RequireTrainingImages(train, 1);
        using var noGrad = no_grad();
        var globals = new List<Tensor>();
        var pyramids = _pyramidIndices.Select(_ => new List<Tensor>()).ToArray();
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, train, Options.BatchSize, WorkProgress.ForPhase(progress, "features"), cancel, layers =>
            {
                globals.Add(Keep(GlobalFeatures(layers)));
                for (int l = 0; l < _pyramidIndices.Length; l++) pyramids[l].Add(Keep(FeatureMaps.ToPositionRows(layers[_pyramidIndices[l]])));
            });
            bool continuing = continual && _global is not null;
            if (continuing)
            {
                for (int l = 0; l < pyramids.Length; l++) RequireSameGrid(_pyramid![l].shape[1], pyramids[l][0].shape[1], "the new training images");
                globals.Insert(0, _global!);
                for (int l = 0; l < pyramids.Length; l++) pyramids[l].Insert(0, _pyramid![l]);
            }
            var global = Keep(cat(globals, 0));
            var pyramid = pyramids.Select(parts => Keep(cat(parts, 0))).ToArray();
            if (!continuing) DisposeState(); // when continuing, the old state is in the lists and freed below
            (_global, _pyramid) = (global, pyramid);
        }
        finally
        {
            // After an error the old state is still the detector's: keep it.
            var kept = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
            if (_global is not null) kept.Add(_global);
            foreach (var t in _pyramid ?? []) kept.Add(t);
            foreach (var t in globals.Concat(pyramids.SelectMany(p => p)).Where(t => !kept.Contains(t))) t.Dispose();
        }
    }

    /// <summary>Global average pooling of the global layer: [B, C].</summary>
    private Tensor GlobalFeatures(IReadOnlyList<Tensor> layers) => layers[_globalIndex].mean([2, 3]);

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var (imageSquared, nearestImages) = NearestNeighbours.Search(GlobalFeatures(layers), _global!, Options.NearestImages);
        float imageScore = imageSquared.sqrt().mean().item<float>();

        int h = Extractor.Preprocessing.OutputHeight, w = Extractor.Preprocessing.OutputWidth;
        var maps = new List<Tensor>();
        for (int l = 0; l < _pyramidIndices.Length; l++)
        {
            var layer = layers[_pyramidIndices[l]];
            var test = FeatureMaps.ToPositionRows(layer)[0]; // [h·w, C]
            RequireSameGrid(_pyramid![l].shape[1], test.shape[0], "this image");
            var gallery = _pyramid[l].index_select(0, nearestImages[0]).reshape(-1, test.shape[1]);
            var (squared, _) = NearestNeighbours.Search(test, gallery, 1);
            var map = squared.sqrt().reshape(1, 1, layer.shape[2], layer.shape[3]);
            maps.Add(FeatureMaps.Resize(map, h, w, InterpolationMode.Bilinear));
        }
        return (stack(maps).mean([0])[0, 0], imageScore);
    }

    protected override void DisposeState()
    {
        _global?.Dispose();
        foreach (var t in _pyramid ?? []) t.Dispose();
    }

    internal static SpadeDetector Restore(ModelArchiveReader archive, SpadeOptions options, IFeatureExtractor extractor)
    {
        var detector = new SpadeDetector(extractor, options);
        detector._global = archive.ReadTensor(GlobalTensor, 2);
        detector._pyramid = options.PyramidLayers.Select(layer => archive.ReadTensor(PyramidTensor(layer), 3)).ToArray();
        return Checked(detector, archive, detector._pyramid.Any(p => p.shape[0] != detector._global.shape[0])
            ? "the SPADE global and pyramid features hold different numbers of training images" : null);
    }
}
