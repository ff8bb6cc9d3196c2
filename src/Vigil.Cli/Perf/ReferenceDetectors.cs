using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Spade;
using Vigil.Imaging;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace Vigil.Cli.Perf;

/// <summary>
/// A detector written the straightforward libtorch way, as a PyTorch user would port the reference code: every training
/// feature held in memory, torch.cdist / torch.linalg.inv on whole tensors, no blocking, pruning or reuse. It runs on the
/// same backbone as Vigil's detector and shares only the map post-processing (<see cref="AnomalyMaps"/>), so a
/// comparison times the method's own work. Its scores match Vigil's up to float rounding (checked by a test).
/// </summary>
public abstract class ReferenceDetector(IFeatureExtractor extractor, double mapSigma) : IDisposable
{
    /// <summary>The backbone (owned).</summary>
    public IFeatureExtractor Extractor { get; } = extractor;

    /// <summary>Extracts every training image (batches of 8, as Vigil fits) and learns from all their features at once.</summary>
    public void Fit(IReadOnlyList<Sample> train)
    {
        using var noGrad = no_grad();
        var batches = new List<IReadOnlyList<Tensor>>();
        FeatureMaps.ExtractInBatches(Extractor, train, 8, null, CancellationToken.None,
            layers => batches.Add(layers.Select(l => l.DetachFromDisposeScope()).ToList()));
        using var scope = NewDisposeScope();
        var layers = Enumerable.Range(0, batches[0].Count).Select(l => cat(batches.Select(b => b[l]).ToList(), 0)).ToList();
        foreach (var t in batches.SelectMany(b => b)) t.Dispose();
        Learn(layers);
    }

    /// <summary>The image score and the anomaly map at the image's size.</summary>
    public (float Score, ScoreMap Map) Predict(ImageTensor image)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (grid, imageScore) = Score(Extractor.Extract([ImageOps.ToRgb(image, "The image")]));
        var (map, view) = AnomalyMaps.ToImage(grid, Extractor.Preprocessing, image.Height, image.Width, mapSigma);
        return (imageScore ?? view.Data.Max(), map);
    }

    /// <summary>Learns from the layers of all training images [N, C, h, w] (kept tensors must be detached from the scope).</summary>
    protected abstract void Learn(IReadOnlyList<Tensor> layers);

    /// <summary>One image's layers → grid scores [h, w] and the image score (null: the maximum of the smoothed map).</summary>
    protected abstract (Tensor Grid, float? ImageScore) Score(IReadOnlyList<Tensor> layers);

    protected abstract void DisposeState();

    public void Dispose()
    {
        DisposeState();
        Extractor.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static Tensor Keep(Tensor tensor) => tensor.DetachFromDisposeScope();
}

/// <summary>
/// patchcore-inspection's pipeline in plain libtorch: unfold, interpolate and adaptive_avg_pool1d per layer, all
/// training patches in one tensor, the random projection and start points of <see cref="KCenterGreedy.Prepare"/> (the
/// same seed as Vigil's fit), the official greedy loop, torch.cdist to the bank and its minimum.
/// </summary>
public sealed class ReferencePatchCore(IFeatureExtractor extractor, PatchCoreOptions options, long seed = 0) : ReferenceDetector(extractor, options.MapSigma)
{
    private readonly int[] _layers = FeatureMaps.LayerIndices(extractor, options.Layers, PatchCoreDetector.ModelName);
    private Tensor? _bank;

    /// <summary>The memory bank [M, target dimension].</summary>
    public Tensor Bank => _bank ?? throw new InvalidOperationException("Fit first.");

    protected override void Learn(IReadOnlyList<Tensor> layers)
    {
        var features = Embed(layers).reshape(-1, options.TargetEmbedDimension);
        if (options.CoresetRatio < 1)
        {
            var (projected, count, starts) = KCenterGreedy.Prepare(features, options.CoresetRatio, seed, options.CoresetProjectionDimension, options.CoresetStartPoints);
            features = features.index_select(0, tensor(GreedyCoreset(projected, count, starts).Select(i => (long)i).ToArray()));
        }
        _bank = Keep(features.contiguous());
    }

    protected override (Tensor Grid, float? ImageScore) Score(IReadOnlyList<Tensor> layers)
    {
        var patches = Embed(layers)[0];
        var scores = cdist(patches, Bank).min(1).values.pow(2); // squared, as faiss IndexFlatL2
        long h = layers[_layers[0]].shape[2], w = layers[_layers[0]].shape[3];
        return (scores.reshape(h, w), scores.max().item<float>());
    }

    private Tensor Embed(IReadOnlyList<Tensor> layers) => Embed(_layers.Select(i => layers[i]).ToList(), options);

    /// <summary>The official PatchMaker + Preprocessing + Aggregator of the chosen layers (the first sets the grid): [B, h·w, target].</summary>
    public static Tensor Embed(IReadOnlyList<Tensor> layers, PatchCoreOptions options)
    {
        var first = layers[0];
        long batch = first.shape[0], h = first.shape[2], w = first.shape[3];
        int p = options.PatchSize;
        var pooled = layers.Select(map =>
        {
            long c = map.shape[1];
            var patches = F.unfold(map, p, padding: (p - 1) / 2).reshape(batch, c * p * p, map.shape[2], map.shape[3]);
            if (map.shape[2] != h || map.shape[3] != w)
                patches = F.interpolate(patches, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
            var rows = patches.permute(0, 2, 3, 1).reshape(batch * h * w, 1, c * p * p);
            return F.adaptive_avg_pool1d(rows, options.PretrainEmbedDimension);
        }).ToList();
        var joined = cat(pooled, 1).reshape(batch * h * w, 1, -1);
        return F.adaptive_avg_pool1d(joined, options.TargetEmbedDimension).reshape(batch, h * w, options.TargetEmbedDimension);
    }

    /// <summary>
    /// The official sampler's loop: every row's distance to the nearest pick so far, updated with one matrix-vector
    /// product per pick (rows start at their mean distance to the start points).
    /// </summary>
    public static int[] GreedyCoreset(PaddedRows rows, int count, int[] starts)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = tensor(rows.Values, rows.Count, rows.Stride).narrow(1, 0, rows.Dimension).contiguous();
        var norms = features.pow(2).sum(1);
        Tensor SquaredDistancesTo(long row)
        {
            var point = features[row];
            return (norms - 2 * features.mv(point) + point.dot(point)).clamp_min(0);
        }
        var initial = zeros(rows.Count, dtype: ScalarType.Float32);
        foreach (var s in starts) initial.add_(SquaredDistancesTo(s).sqrt());
        var minSquared = (initial / starts.Length).pow(2);
        var picked = new int[count];
        for (int i = 0; i < count; i++)
        {
            using var step = NewDisposeScope();
            picked[i] = (int)minSquared.argmax().item<long>();
            minSquared.copy_(minSquared.minimum(SquaredDistancesTo(picked[i])));
        }
        return picked;
    }

    protected override void DisposeState() => _bank?.Dispose();
}

/// <summary>
/// The PaDiM reference code in plain libtorch: layers nearest-upsampled and concatenated, the seeded random channel
/// subset (as Vigil draws it), every training embedding held at once, mean and float64 covariance per position with
/// torch ops, torch.linalg.inv of all positions, the Mahalanobis distance per position.
/// </summary>
public sealed class ReferencePadim(IFeatureExtractor extractor, PadimOptions options, long seed = 0) : ReferenceDetector(extractor, options.MapSigma)
{
    private readonly int[] _layers = FeatureMaps.LayerIndices(extractor, options.Layers, PadimDetector.ModelName);
    private Tensor? _channels, _mean, _inverse;

    protected override void Learn(IReadOnlyList<Tensor> layers)
    {
        var first = layers[_layers[0]];
        var joined = cat(_layers.Select(i => F.interpolate(layers[i], size: [first.shape[2], first.shape[3]], mode: InterpolationMode.Nearest)).ToList(), 1);
        long total = joined.shape[1];
        int d = options.Dimensions ?? PadimDetector.DefaultDimensions((int)total);
        _channels = Keep(randperm(total, generator: new Generator((ulong)seed)).narrow(0, 0, d).sort().Values);
        var embeddings = joined.index_select(1, _channels).flatten(2).permute(2, 0, 1).to_type(ScalarType.Float64); // [P, N, d]
        var mean = embeddings.mean([1], keepdim: true);
        var centred = embeddings - mean;
        var covariance = centred.transpose(1, 2).bmm(centred) / (embeddings.shape[1] - 1) + options.Regularisation * eye(d, dtype: ScalarType.Float64);
        _inverse = Keep(linalg.inv(covariance));
        _mean = Keep(mean.squeeze(1));
    }

    protected override (Tensor Grid, float? ImageScore) Score(IReadOnlyList<Tensor> layers)
    {
        var first = layers[_layers[0]];
        long h = first.shape[2], w = first.shape[3];
        var joined = cat(_layers.Select(i => F.interpolate(layers[i], size: [h, w], mode: InterpolationMode.Nearest)).ToList(), 1);
        var diff = (joined[0].index_select(0, _channels!).flatten(1).t().to_type(ScalarType.Float64) - _mean!).unsqueeze(1); // [P, 1, d]
        var distances = diff.bmm(_inverse!).bmm(diff.transpose(1, 2)).reshape(h, w).sqrt();
        return (distances.to_type(ScalarType.Float32), null);
    }

    protected override void DisposeState()
    {
        foreach (var t in new[] { _channels, _mean, _inverse }) t?.Dispose();
    }
}

/// <summary>
/// The SPADE reference code in plain libtorch: all training feature maps held, torch.cdist of the global features and
/// the K nearest images, then per pyramid layer torch.cdist of the test positions to every position of those images'
/// maps and the minimum, upsampled and averaged.
/// </summary>
public sealed class ReferenceSpade(IFeatureExtractor extractor, SpadeOptions options) : ReferenceDetector(extractor, options.MapSigma)
{
    private readonly int _global = FeatureMaps.LayerIndices(extractor, [options.GlobalLayer], SpadeDetector.ModelName)[0];
    private readonly int[] _pyramid = FeatureMaps.LayerIndices(extractor, options.PyramidLayers, SpadeDetector.ModelName);
    private Tensor? _globalFeatures;
    private Tensor[]? _maps;

    protected override void Learn(IReadOnlyList<Tensor> layers)
    {
        _globalFeatures = Keep(layers[_global].mean([2, 3]));
        _maps = _pyramid.Select(i => Keep(layers[i].clone())).ToArray();
    }

    protected override (Tensor Grid, float? ImageScore) Score(IReadOnlyList<Tensor> layers)
    {
        var distances = cdist(layers[_global].mean([2, 3]), _globalFeatures!)[0];
        var (nearest, images) = distances.topk((int)Math.Min(options.NearestImages, distances.shape[0]), largest: false);
        int h = Extractor.Preprocessing.OutputHeight, w = Extractor.Preprocessing.OutputWidth;
        var maps = _pyramid.Select((index, l) =>
        {
            var layer = layers[index];
            var test = layer[0].flatten(1).t();                                                                   // [h·w, C]
            var gallery = _maps![l].index_select(0, images).permute(0, 2, 3, 1).reshape(-1, layer.shape[1]); // [K·h·w, C]
            var map = cdist(test, gallery).min(1).values.reshape(1, 1, layer.shape[2], layer.shape[3]);
            return F.interpolate(map, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
        }).ToList();
        return (stack(maps).mean([0])[0, 0], nearest.mean().item<float>());
    }

    protected override void DisposeState()
    {
        _globalFeatures?.Dispose();
        foreach (var t in _maps ?? []) t.Dispose();
    }
}
