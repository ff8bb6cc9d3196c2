using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Persistence;
using Vigil.Randomness;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace Vigil.Detectors.PatchCore;

/// <summary>
/// PatchCore (Roth et al., CVPR 2022): locally aggregated mid-level patch features of normal images, thinned to a
/// greedy coreset, form a memory bank; a test patch's score is its squared Euclidean distance to the nearest bank
/// feature (as the official code's faiss IndexFlatL2), the image score the largest patch score. Continual
/// training adds each new task's coreset to the bank, re-sampled to <see cref="PatchCoreOptions.BankCap"/> when
/// given; <see cref="PatchCoreOptions.Denoising"/> adds SoftPatch.
/// </summary>
public sealed class PatchCoreDetector : FrozenFeatureDetector, IMemoryBankDetector
{
    public const string ModelName = "patchcore";
    private const string BankTensor = "memory_bank", WeightsTensor = "bank_weights", OfferedTensor = "offered_patches", SeedEntry = "patchcore";
    private readonly int[] _layerIndices;
    private Tensor? _memoryBank;
    private Tensor? _bankWeights; // [M] SoftPatch outlier scores of the bank features, with soft weighting only
    private Tensor? _offered;     // [1] features offered to the capped bank so far (reservoir sampling's stream length)
    private long _gridPositions; // feature-grid positions per image; 0 until fitted (or for a loaded model, where only predictions check it)
    private INearestNeighbourSearch? _index;
    private readonly object _indexLock = new();

    /// <param name="seed">Seeds the coreset's projection and start points, and the bank cap's reservoir.</param>
    public PatchCoreDetector(IFeatureExtractor extractor, PatchCoreOptions? options = null, long seed = 0) : base(extractor, options ?? new PatchCoreOptions())
    {
        Options.Validate();
        Seed = seed;
        _layerIndices = FeatureMaps.LayerIndices(extractor, Options.Layers, ModelName);
    }

    public override string Model => ModelName;
    public new PatchCoreOptions Options => (PatchCoreOptions)base.Options;
    public long Seed { get; }

    /// <summary>The memory bank [rows, target dimension] (owned by the detector: do not dispose); null before fitting.</summary>
    public Tensor? MemoryBank => _memoryBank;

    /// <summary>Patch features in the memory bank; 0 before fitting.</summary>
    public long MemoryBankSize => _memoryBank?.shape[0] ?? 0;

    public override string StateSummary => $"{MemoryBankSize:N0} patch features × {Options.TargetEmbedDimension}";

    protected override double MapSigma => Options.MapSigma;
    protected override IReadOnlyDictionary<string, Tensor> State
    {
        get
        {
            var state = new Dictionary<string, Tensor>();
            if (_memoryBank is null) return state;
            state[BankTensor] = _memoryBank;
            if (_bankWeights is not null) state[WeightsTensor] = _bankWeights;
            if (_offered is not null) state[OfferedTensor] = _offered;
            return state;
        }
    }

    /// <summary>SoftPatch weights of the bank rows [M], when soft weighting is on.</summary>
    internal Tensor? BankWeights => _bankWeights;

    /// <summary>
    /// Builds the memory bank from the images' coreset (denoised first when configured); with <paramref name="continual"/>,
    /// adds it to the bank and applies the bank cap.
    /// </summary>
    /// <remarks>
    /// Memory stays bounded by the projection, not the features: every patch feature is written to a temporary file
    /// as it is embedded and only its random projection (what the coreset is chosen on) stays in memory; the chosen
    /// rows are then read back. The bank is the one holding every feature in memory would give.
    /// </remarks>
    internal override void Learn(IReadOnlyList<Sample> train, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        RequireTrainingImages(train, Options.DenoisingSettings is null ? 1 : 2);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (rows, weights, positions) = Coreset(train, continual, progress, cancel);
        StoreBank(rows, weights, continual, positions);
    }

    /// <summary>The coreset rows of the images' patch features (and their SoftPatch weights), and the grid positions per image.</summary>
    private (Tensor Rows, Tensor? Weights, long Positions) Coreset(IReadOnlyList<Sample> train, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        using var features = new SpilledRows(Options.TargetEmbedDimension);
        bool project = Options.DenoisingSettings is not null || Options.CoresetRatio < 1;
        CoresetProjection? projection = null;
        long[] picks;
        Tensor? weights = null;
        long positions;
        try
        {
            ForEachImagePatches(train, WorkProgress.ForPhase(progress, "features"), cancel, rows =>
            {
                features.Append(rows);
                if (!project) return;
                projection ??= new CoresetProjection(Options.TargetEmbedDimension, Options.CoresetProjectionDimension, Seed, checked((int)(rows.shape[0] * train.Count)));
                projection.Add(rows);
            });
            positions = features.Count / train.Count; // every image has the same feature grid
            if (continual && _gridPositions > 0) RequireSameGrid(_gridPositions, positions, "the new training images");
            progress?.Report(new WorkProgress("coreset", 0, 1));
            (picks, weights) = Options.DenoisingSettings is { } denoising
                ? DenoisedCoreset(features.Count, projection!, train.Count, positions, denoising, cancel)
                : (projection is null
                    ? Enumerable.Range(0, (int)features.Count).Select(i => (long)i).ToArray()
                    : KCenterGreedy.ApproximateCoreset(projection, Options.CoresetRatio, Options.CoresetStartPoints, cancel).Select(i => (long)i).ToArray(), null);
        }
        finally
        {
            projection?.Dispose();
        }
        // The projected rows (128 values per training patch) are garbage now; collecting them before the chosen rows
        // are read back and indexed keeps the fit's peak at the bank, not the bank plus the projection.
        projection = null;
        GC.Collect();
        var rows = features.Gather(picks);
        progress?.Report(new WorkProgress("coreset", 1, 1));
        return (rows, weights, positions);
    }

    /// <summary>Makes the coreset rows the bank (or adds them to it, continually, then applies the cap) and indexes it.</summary>
    private void StoreBank(Tensor rows, Tensor? weights, bool continual, long positions)
    {
        long added = rows.shape[0];
        bool continuing = continual && _memoryBank is not null;
        long offeredBefore = continuing ? _offered?[0].item<long>() ?? _memoryBank!.shape[0] : 0;
        int keptBefore = continuing ? (int)_memoryBank!.shape[0] : 0;
        if (continuing)
        {
            rows = cat([_memoryBank!, rows], 0);
            if (weights is not null) weights = cat([_bankWeights!, weights], 0);
        }
        (rows, weights) = ApplyBankCap(rows, weights, keptBefore, offeredBefore);

        foreach (var t in new[] { _memoryBank, _bankWeights, _offered }) t?.Dispose();
        _memoryBank = Keep(rows.contiguous());
        _bankWeights = weights is null ? null : Keep(weights.contiguous());
        _offered = Options.BankCap is null ? null : Keep(tensor(new[] { offeredBefore + added }));
        _gridPositions = positions;
        _index?.Dispose();
        _index = BuildIndex(_memoryBank);
    }

    /// <summary>Frees the bank and its search index.</summary>
    protected override void DisposeState()
    {
        base.DisposeState();
        _index?.Dispose();
        _index = null;
    }

    /// <summary>The nearest-neighbour index over the memory bank (built by fitting, or at the first prediction of a loaded model).</summary>
    private INearestNeighbourSearch Index
    {
        get
        {
            lock (_indexLock) return _index ??= BuildIndex(_memoryBank!);
        }
    }

    /// <summary>The exact index, or with search=ivf the inverted file, its k-means seeded by the fit's seed (so a loaded model rebuilds the same lists).</summary>
    private INearestNeighbourSearch BuildIndex(Tensor bank) => Options.Search switch
    {
        BankSearch.Ivf => InvertedFileIndex.Build(bank, (int)Math.Min(bank.shape[0], Options.IvfLists ?? InvertedFileIndex.DefaultLists(bank.shape[0])), Options.IvfProbes, Seed),
        _ => NearestNeighbourIndex.Build(bank),
    };

    /// <summary>
    /// Every patch feature of <paramref name="samples"/> before coreset selection: [images·h·w, target dimension],
    /// image by image, row-major grid positions (the rows <see cref="Fit"/> selects its memory bank from).
    /// </summary>
    public Tensor PatchFeatures(IReadOnlyList<Sample> samples, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        using var noGrad = no_grad();
        var batches = new List<Tensor>();
        try
        {
            ForEachImagePatches(samples, progress, cancel, rows => batches.Add(Keep(rows.alias())));
            return cat(batches, 0);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>
    /// Each image's patch features [h·w, target dimension], in order (disposed after <paramref name="consume"/>). Images
    /// are extracted in batches but embedded one at a time: the embedding's temporaries (unfolded neighbourhoods, the
    /// pooling windows) are several times the features, and every step of it is per image.
    /// </summary>
    private void ForEachImagePatches(IReadOnlyList<Sample> samples, IProgress<(int Done, int Total)>? progress, CancellationToken cancel, Action<Tensor> consume) =>
        FeatureMaps.ExtractInBatches(Extractor, samples, Options.BatchSize, progress, cancel, layers =>
        {
            for (long i = 0; i < layers[0].shape[0]; i++)
            {
                using var scope = NewDisposeScope();
                consume(Embed(layers.Select(l => l.narrow(0, i, 1)).ToList()).Features.reshape(-1, Options.TargetEmbedDimension));
            }
        });

    /// <summary>
    /// Brings the bank (the first <paramref name="keptBefore"/> rows are the old bank, the rest just offered) back to
    /// <see cref="PatchCoreOptions.BankCap"/>: the reservoir continues its stream after <paramref name="offeredBefore"/>
    /// features, the coreset strategy re-samples all rows.
    /// </summary>
    private (Tensor Rows, Tensor? Weights) ApplyBankCap(Tensor rows, Tensor? weights, int keptBefore, long offeredBefore)
    {
        if (Options.BankCap is not int cap || rows.shape[0] <= cap) return (rows, weights);
        var keep = Options.BankCapStrategy == BankCapStrategy.Reservoir
            ? ReservoirSlots(keptBefore, offeredBefore, (int)rows.shape[0] - keptBefore, cap, ReservoirRandom(offeredBefore)).Select(i => (long)i)
            : Coreset(rows, cap);
        return Select(rows, weights, Indices(keep));
    }

    /// <summary>
    /// SoftPatch: outlier scores of every training patch among the patches at its grid position (on the randomly
    /// projected features), the top <see cref="PatchDenoising.DiscardRatio"/> discarded, then the coreset of the
    /// rest, sized by all patches (⌊N·P·ratio⌋) as SoftPatch's sampler. Returns the bank rows and, with soft
    /// weighting, their outlier scores clamped at 0.
    /// </summary>
    private (long[] Picks, Tensor? Weights) DenoisedCoreset(long patches, CoresetProjection projection, int images, long positions,
        PatchDenoising denoising, CancellationToken cancel)
    {
        var padded = projection.Projected;
        var projected = tensor(padded.Values, new long[] { padded.Count, padded.Stride }).narrow(1, 0, padded.Dimension);
        var byPosition = projected.reshape(images, positions, -1).permute(1, 0, 2); // [P, N, d]
        var scores = PatchOutlierScores.Compute(byPosition, denoising.Method, denoising.Neighbours).t().reshape(-1); // image-major, as features
        var inliers = PatchOutlierScores.Inliers(scores, denoising.DiscardRatio);
        var candidateScores = scores.index_select(0, Indices(inliers)).to_type(ScalarType.Float32).clamp_min(0);
        int count = (int)Math.Min(inliers.Length, Math.Max(1, (long)(patches * Options.CoresetRatio)));
        // The coreset of the inliers' projected rows, its start points drawn after the projection as for a coreset of all rows.
        var picks = count == inliers.Length
            ? Enumerable.Range(0, count).ToArray()
            : KCenterGreedy.Select(PaddedRows.FromTensor(projected.index_select(0, Indices(inliers))), count,
                projection.StartPoints(inliers.Length, Options.CoresetStartPoints), cancel);
        return (picks.Select(p => (long)inliers[p]).ToArray(), denoising.SoftWeighting ? candidateScores.index_select(0, Indices(picks)) : null);
    }

    /// <summary>Exactly <paramref name="count"/> rows by the approximate greedy coreset (all rows when count ≥ N).</summary>
    private long[] Coreset(Tensor features, long count, CancellationToken cancel = default)
    {
        long n = features.shape[0];
        if (count >= n) return Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
        // ApproximateCoreset picks ⌊N·ratio⌋ rows; count + ½ keeps float rounding from landing on count − 1.
        return KCenterGreedy.ApproximateCoreset(features, (count + 0.5) / n, Seed, Options.CoresetProjectionDimension,
            Options.CoresetStartPoints, cancel).Select(i => (long)i).ToArray();
    }

    /// <summary>
    /// Vitter's algorithm R: a reservoir of <paramref name="kept"/> = min(<paramref name="offered"/>, cap) items
    /// receives <paramref name="incoming"/> more; item t of the stream (0-based) enters while the reservoir is not
    /// full, later replaces a uniform slot j &lt; cap with j drawn from [0, t]. Returns, per slot, the index into
    /// the old items followed by the incoming ones.
    /// </summary>
    internal static int[] ReservoirSlots(int kept, long offered, int incoming, int cap, SeededRandom random)
    {
        var slots = Enumerable.Range(0, kept).ToList();
        for (int r = 0; r < incoming; r++)
        {
            if (slots.Count < cap) slots.Add(kept + r);
            else if (random.NextInt64(offered + r + 1) is var j && j < cap) slots[(int)j] = kept + r;
        }
        return slots.ToArray();
    }

    /// <summary>The reservoir's random source, seeded by the fit's seed and the stream position, so a reloaded model continues identically.</summary>
    private SeededRandom ReservoirRandom(long offered) => new(SeededRandom.Derive((ulong)Seed, offered));

    private static (Tensor Rows, Tensor? Weights) Select(Tensor rows, Tensor? weights, Tensor indices) =>
        (rows.index_select(0, indices), weights?.index_select(0, indices));

    private static Tensor Indices(IEnumerable<long> indices) => tensor(indices.ToArray());
    private static Tensor Indices(IEnumerable<int> indices) => Indices(indices.Select(i => (long)i));

    /// <summary>The official locally aware embedding (<see cref="PatchEmbedding"/>): [B, h·w, target] and the grid size.</summary>
    private (Tensor Features, long Height, long Width) Embed(IReadOnlyList<Tensor> layers) =>
        PatchEmbedding.Embed(_layerIndices.Select(i => layers[i]).ToList(), Options.PatchSize, Options.PretrainEmbedDimension, Options.TargetEmbedDimension);

    protected override (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers)
    {
        var (features, h, w) = Embed(layers);
        var patches = features[0];
        var (scores, nearest) = Index.Search(patches);
        if (_bankWeights is not null) scores = scores * _bankWeights.index_select(0, nearest); // SoftPatch's soft weighting
        long worst = scores.argmax().item<long>();
        float imageScore = scores[worst].item<float>();
        // The paper's weight scales s* = ‖m_test,* − m*‖₂ (Eq. 6–7), the Euclidean distance, not the squared one the
        // patch scores are (the official code's faiss distances).
        if (Options.ReweightingNeighbours is int b)
            imageScore = ReweightingFactor(patches[worst], nearest[worst].item<long>(), b) * MathF.Sqrt(imageScore);
        return (scores.reshape(h, w), imageScore);
    }

    /// <summary>
    /// The paper's weight 1 − exp‖m_test,* − m*‖ / Σ_{m ∈ N_b(m*)} exp‖m_test,* − m‖ (Eq. 7), with N_b(m*) the b nearest
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

    /// <summary>The bank tensors, and the seed a continued fit draws its reservoir from.</summary>
    public override void Save(ModelArchiveWriter archive)
    {
        base.Save(archive);
        archive.WriteJson(SeedEntry, new JsonObject { ["seed"] = Seed });
    }

    internal static PatchCoreDetector Restore(ModelArchiveReader archive, PatchCoreOptions options, IFeatureExtractor extractor)
    {
        long seed = (long?)archive.ReadJson(SeedEntry)["seed"] ?? throw archive.Corrupt("the PatchCore seed is missing");
        var detector = new PatchCoreDetector(extractor, options, seed);
        detector._memoryBank = archive.ReadTensor(BankTensor, 2);
        detector._bankWeights = archive.TryReadTensor(WeightsTensor, 1);
        detector._offered = archive.TryReadTensor(OfferedTensor, 1);
        var bank = detector._memoryBank;
        bool weighted = detector.Options.DenoisingSettings?.SoftWeighting == true;
        string? problem =
            bank.shape[1] != detector.Options.TargetEmbedDimension
                ? $"the memory bank has {bank.shape[1]} dimensions but the options say {detector.Options.TargetEmbedDimension}"
            : weighted != (detector._bankWeights is not null) || (weighted && detector._bankWeights!.shape[0] != bank.shape[0])
                ? "the SoftPatch bank weights do not match the memory bank and the options"
            : (detector.Options.BankCap is null) != (detector._offered is null) || (detector._offered is not null && detector._offered.shape[0] != 1)
                ? "the count of offered patches does not match the bank cap in the options"
            : null;
        return Checked(detector, archive, problem);
    }
}
