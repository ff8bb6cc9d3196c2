using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Building;
using Vigil.Data;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Vigil.Detectors;

/// <summary>
/// PatchCore (Roth et al., CVPR 2022): locally aggregated mid-level patch features of normal images, thinned to a
/// greedy coreset, form a memory bank; a test patch's score is its squared Euclidean distance to the nearest bank
/// feature (as the official code's faiss IndexFlatL2), the image score the largest patch score.
/// </summary>
public sealed class PatchCoreDetector : FeatureEmbeddingDetector
{
    public const string ModelName = "patchcore";
    private const string BankTensor = "memory_bank";
    private readonly int[] _layerIndices;
    private Tensor? _memoryBank;
    private NearestNeighbourIndex? _index;
    private readonly object _indexLock = new();

    public PatchCoreDetector(IFeatureExtractor extractor, PatchCoreOptions? options = null) : base(extractor)
    {
        Options = options ?? new PatchCoreOptions();
        Options.Validate();
        _layerIndices = FeatureMaps.LayerIndices(extractor, Options.Layers, ModelName);
    }

    public override string Name => ModelName;
    public PatchCoreOptions Options { get; }

    /// <summary>The memory bank [rows, target dimension] (owned by the detector: do not dispose); null before fitting.</summary>
    public Tensor? MemoryBank => _memoryBank;

    /// <summary>Patch features in the memory bank; 0 before fitting.</summary>
    public long MemoryBankSize => _memoryBank?.shape[0] ?? 0;

    protected override double MapSigma => Options.MapSigma;
    protected override IReadOnlyDictionary<string, Tensor> State =>
        _memoryBank is null ? new Dictionary<string, Tensor>() : new Dictionary<string, Tensor> { [BankTensor] = _memoryBank };

    public override void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null)
    {
        RequireTrainingImages(train, 1, ModelName);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = PatchFeatures(train, progress);
        var bank = Options.CoresetRatio >= 1
            ? features
            : features.index_select(0, tensor(KCenterGreedy.ApproximateCoreset(features, Options.CoresetRatio, Options.Seed,
                Options.CoresetProjectionDimension, Options.CoresetStartPoints).Select(i => (long)i).ToArray()));
        _memoryBank?.Dispose();
        _memoryBank = Keep(bank.contiguous());
        _index?.Dispose();
        _index = NearestNeighbourIndex.Build(_memoryBank);
    }

    /// <summary>The exact nearest-neighbour index over the memory bank, built at the first prediction.</summary>
    private NearestNeighbourIndex Index
    {
        get
        {
            lock (_indexLock) return _index ??= NearestNeighbourIndex.Build(_memoryBank!);
        }
    }

    /// <summary>
    /// Every patch feature of <paramref name="samples"/> before coreset selection: [images·h·w, target dimension],
    /// image by image, row-major grid positions (the rows <see cref="Fit"/> selects its memory bank from).
    /// </summary>
    public Tensor PatchFeatures(IReadOnlyList<Sample> samples, IProgress<(int Done, int Total)>? progress = null)
    {
        using var noGrad = no_grad();
        var batches = new List<Tensor>();
        try
        {
            FeatureMaps.ExtractInBatches(Extractor, samples, Options.BatchSize, progress,
                layers => batches.Add(Keep(Embed(layers).Features.reshape(-1, Options.TargetEmbedDimension))));
            return cat(batches, 0);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>
    /// The official embedding: each layer's p×p neighbourhoods unfolded (zero padding, stride 1) into C·p² vectors,
    /// coarser layers bilinearly resized to the first layer's grid, each layer's vector adaptively average-pooled to
    /// the pre-projection length, the layers' results concatenated and pooled to the target length.
    /// Returns [B, h·w, target] and the grid size.
    /// </summary>
    private (Tensor Features, long Height, long Width) Embed(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        var first = layers[_layerIndices[0]];
        long batch = first.shape[0], h = first.shape[2], w = first.shape[3];
        int p = Options.PatchSize;
        var pooled = _layerIndices.Select(i =>
        {
            var map = layers[i];
            long c = map.shape[1];
            var patches = F.unfold(map, p, padding: (p - 1) / 2).reshape(batch, c * p * p, map.shape[2], map.shape[3]);
            patches = FeatureMaps.Resize(patches, h, w, InterpolationMode.Bilinear);
            var rows = patches.permute(0, 2, 3, 1).reshape(batch * h * w, 1, c * p * p);
            return FeatureMaps.AdaptiveAveragePool(rows, Options.PretrainEmbedDimension); // [BHW, 1, pre]
        }).ToList();
        var joined = cat(pooled, 1).reshape(batch * h * w, 1, -1);
        var target = FeatureMaps.AdaptiveAveragePool(joined, Options.TargetEmbedDimension).reshape(batch, h * w, Options.TargetEmbedDimension);
        return (target.MoveToOuterDisposeScope(), h, w);
    }

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var (features, h, w) = Embed(layers);
        var patches = features[0];
        var (scores, nearest) = Index.Search(patches);
        long worst = scores.argmax().item<long>();
        float imageScore = scores[worst].item<float>();
        if (Options.ReweightingNeighbours is int b)
            imageScore *= ReweightingFactor(patches[worst], nearest[worst].item<long>(), b);
        return (scores.reshape(h, w), imageScore);
    }

    /// <summary>
    /// The paper's weight 1 − exp‖m_test − m*‖ / Σ_{m ∈ N_b(m*)} exp‖m_test − m‖ (Eq. 7), with N_b(m*) the b nearest
    /// bank features of m* (m* included), computed as a softmax over Euclidean distances.
    /// </summary>
    private float ReweightingFactor(Tensor testFeature, long nearestIndex, int b)
    {
        var bankNeighbour = _memoryBank![nearestIndex].unsqueeze(0);
        var (_, support) = NearestNeighbours.Search(bankNeighbour, _memoryBank, b);
        var supportFeatures = _memoryBank.index_select(0, support[0]);
        var distances = (supportFeatures - testFeature).pow(2).sum(1).sqrt();
        // support[0] is m* itself (distance 0 to itself) unless the bank holds an exact duplicate at the same distance.
        var weights = F.softmax(distances, 0);
        return 1 - weights[0].item<float>();
    }

    protected override JsonNode OptionsJson() => ModelFile.OptionsToJson(Options);

    internal static PatchCoreDetector Restore(ModelFile.Content content, IFeatureExtractor extractor, string path)
    {
        var detector = new PatchCoreDetector(extractor, ModelFile.OptionsAs<PatchCoreOptions>(content, path));
        var bank = Take(content, BankTensor, path, 2);
        if (bank.shape[1] != detector.Options.TargetEmbedDimension)
        {
            bank.Dispose();
            throw ModelFile.Corrupt(path, $"the memory bank has {bank.shape[1]} dimensions but the options say {detector.Options.TargetEmbedDimension}");
        }
        detector._memoryBank = bank;
        return detector;
    }
}
