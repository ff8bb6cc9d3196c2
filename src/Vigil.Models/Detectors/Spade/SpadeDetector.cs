using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using static TorchSharp.torch;

namespace Vigil.Detectors.Spade;

/// <summary>
/// SPADE (Cohen and Hoshen, 2020): the image score is the mean Euclidean distance of the image's global feature
/// to its K nearest training images; each pixel's score is the distance of its feature-pyramid vector to the
/// nearest pyramid vector of those K images. Continual training appends the new training images' features, so
/// fitting A then B gives exactly the model fitted on A followed by B.
/// </summary>
public sealed class SpadeDetector : FrozenFeatureDetector
{
    public const string ModelName = "spade";
    private const string GlobalTensor = "global_features", PyramidTensor = "pyramid_features";
    private readonly int _globalIndex;
    private readonly int[] _pyramidIndices;
    private Tensor? _global, _pyramid; // [N, C] and [N, h·w, Cp]

    public SpadeDetector(IFeatureExtractor extractor, SpadeOptions? options = null) : base(extractor, options ?? new SpadeOptions())
    {
        Options.Validate();
        _globalIndex = FeatureMaps.LayerIndices(extractor, [Options.GlobalLayer], ModelName)[0];
        _pyramidIndices = FeatureMaps.LayerIndices(extractor, Options.PyramidLayers, ModelName);
    }

    public override string Model => ModelName;
    public new SpadeOptions Options => (SpadeOptions)base.Options;

    public override string StateSummary => $"{_global?.shape[0] ?? 0:N0} training images' global and pyramid features";

    protected override double MapSigma => Options.MapSigma;
    protected override IReadOnlyDictionary<string, Tensor> State =>
        _global is null ? new Dictionary<string, Tensor>() : new Dictionary<string, Tensor> { [GlobalTensor] = _global, [PyramidTensor] = _pyramid! };

    internal override void Learn(IReadOnlyList<Sample> train, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        RequireTrainingImages(train, 1);
        using var noGrad = no_grad();
        var globals = new List<Tensor>();
        var pyramids = new List<Tensor>();
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, train, Options.BatchSize, WorkProgress.ForPhase(progress, "features"), cancel, layers =>
            {
                globals.Add(Keep(GlobalFeatures(layers)));
                pyramids.Add(Keep(Pyramid(layers)));
            });
            bool continuing = continual && _global is not null;
            if (continuing)
            {
                RequireSameGrid(_pyramid!.shape[1], pyramids[0].shape[1], "the new training images");
                globals.Insert(0, _global!);
                pyramids.Insert(0, _pyramid);
            }
            var global = Keep(cat(globals, 0));
            var pyramid = Keep(cat(pyramids, 0));
            if (!continuing) DisposeState(); // when continuing, the old state is in the lists and freed below
            (_global, _pyramid) = (global, pyramid);
        }
        finally
        {
            // After an error the old state is still the detector's: keep it.
            foreach (var t in globals.Concat(pyramids).Where(t => !ReferenceEquals(t, _global) && !ReferenceEquals(t, _pyramid))) t.Dispose();
        }
    }

    /// <summary>Global average pooling of the global layer: [B, C].</summary>
    private Tensor GlobalFeatures(IReadOnlyList<Tensor> layers) => layers[_globalIndex].mean([2, 3]);

    /// <summary>Pyramid layers bilinearly resized to the first one's grid and concatenated: [B, h·w, Cp].</summary>
    private Tensor Pyramid(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        var joined = FeatureMaps.ConcatenateOnGrid(_pyramidIndices.Select(i => layers[i]).ToList(), InterpolationMode.Bilinear);
        return FeatureMaps.ToPositionRows(joined).MoveToOuterDisposeScope();
    }

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var (imageSquared, nearestImages) = NearestNeighbours.Search(GlobalFeatures(layers), _global!, Options.NearestImages);
        float imageScore = imageSquared.sqrt().mean().item<float>();

        var pyramid = Pyramid(layers)[0];
        RequireSameGrid(_pyramid!.shape[1], pyramid.shape[0], "this image");
        var gallery = _pyramid.index_select(0, nearestImages[0]).reshape(-1, pyramid.shape[1]);
        var (pixelSquared, _) = NearestNeighbours.Search(pyramid, gallery, 1);
        var first = layers[_pyramidIndices[0]];
        return (pixelSquared.sqrt().reshape(first.shape[2], first.shape[3]), imageScore);
    }

    internal static SpadeDetector Restore(ModelArchiveReader archive, SpadeOptions options, IFeatureExtractor extractor)
    {
        var detector = new SpadeDetector(extractor, options);
        detector._global = archive.ReadTensor(GlobalTensor, 2);
        detector._pyramid = archive.ReadTensor(PyramidTensor, 3);
        if (detector._global.shape[0] != detector._pyramid.shape[0])
        {
            detector.DisposeState(); // the caller disposes the extractor it resolved
            throw archive.Corrupt("the SPADE global and pyramid features hold different numbers of training images");
        }
        return detector;
    }
}
