using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Building;
using Vigil.Data;
using static TorchSharp.torch;

namespace Vigil.Detectors;

/// <summary>
/// SPADE (Cohen and Hoshen, 2020): the image score is the mean Euclidean distance of the image's global feature
/// to its K nearest training images; each pixel's score is the distance of its feature-pyramid vector to the
/// nearest pyramid vector of those K images. Continual training (<see cref="FitMore"/>) appends the new
/// training images' features, so fitting A then B gives exactly the model fitted on A followed by B.
/// </summary>
public sealed class SpadeDetector : FeatureEmbeddingDetector, IContinualDetector
{
    public const string ModelName = "spade";
    private const string GlobalTensor = "global_features", PyramidTensor = "pyramid_features";
    private readonly int _globalIndex;
    private readonly int[] _pyramidIndices;
    private Tensor? _global, _pyramid; // [N, C] and [N, h·w, Cp]

    public SpadeDetector(IFeatureExtractor extractor, SpadeOptions? options = null) : base(extractor)
    {
        Options = options ?? new SpadeOptions();
        Options.Validate();
        _globalIndex = FeatureMaps.LayerIndices(extractor, [Options.GlobalLayer], ModelName)[0];
        _pyramidIndices = FeatureMaps.LayerIndices(extractor, Options.PyramidLayers, ModelName);
    }

    public override string Name => ModelName;
    public SpadeOptions Options { get; }

    protected override double MapSigma => Options.MapSigma;
    protected override IReadOnlyDictionary<string, Tensor> State =>
        _global is null ? new Dictionary<string, Tensor>() : new Dictionary<string, Tensor> { [GlobalTensor] = _global, [PyramidTensor] = _pyramid! };

    public override void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null) =>
        Learn(train, progress, keepExisting: false);

    public void FitMore(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null) =>
        Learn(train, progress, keepExisting: true);

    private void Learn(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress, bool keepExisting)
    {
        RequireTrainingImages(train, 1, ModelName);
        using var noGrad = no_grad();
        var globals = new List<Tensor>();
        var pyramids = new List<Tensor>();
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, train, Options.BatchSize, progress, layers =>
            {
                globals.Add(Keep(GlobalFeatures(layers)));
                pyramids.Add(Keep(Pyramid(layers)));
            });
            bool continuing = keepExisting && _global is not null;
            if (continuing)
            {
                if (_pyramid!.shape[1] != pyramids[0].shape[1])
                    throw new VigilInputException(
                        $"SPADE was fitted on a {_pyramid.shape[1]}-position feature grid but the new training images give {pyramids[0].shape[1]}; the backbone's preprocessing must match the fitted model.");
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
        if (pyramid.shape[0] != _pyramid!.shape[1])
            throw new VigilInputException(
                $"SPADE was fitted on a {_pyramid.shape[1]}-position feature grid but this image gives {pyramid.shape[0]}; the backbone's preprocessing must match the fitted model.");
        var gallery = _pyramid.index_select(0, nearestImages[0]).reshape(-1, pyramid.shape[1]);
        var (pixelSquared, _) = NearestNeighbours.Search(pyramid, gallery, 1);
        var first = layers[_pyramidIndices[0]];
        return (pixelSquared.sqrt().reshape(first.shape[2], first.shape[3]), imageScore);
    }

    protected override JsonNode OptionsJson() => ModelFile.OptionsToJson(Options);

    internal static SpadeDetector Restore(ModelFile.Content content, IFeatureExtractor extractor, string path)
    {
        var detector = new SpadeDetector(extractor, ModelFile.OptionsAs<SpadeOptions>(content, path));
        detector._global = Take(content, GlobalTensor, path, 2);
        detector._pyramid = Take(content, PyramidTensor, path, 3);
        if (detector._global.shape[0] != detector._pyramid.shape[0])
        {
            detector.DisposeState(); // the caller disposes the extractor it resolved
            throw ModelFile.Corrupt(path, "the SPADE global and pyramid features hold different numbers of training images");
        }
        return detector;
    }
}
