using Vigil.Detectors.Options;

namespace Vigil.Detectors.PatchCore;

/// <summary>PatchCore settings; defaults follow the official implementation (amazon-science/patchcore-inspection).</summary>
public sealed record PatchCoreOptions : IDetectorOptions
{
    [Option("layers", "Backbone layers whose patch features are combined; the first sets the feature grid.")]
    public IReadOnlyList<string> Layers { get; init; } = ["layer2", "layer3"];

    [Option("patch", "Side of the local neighbourhood aggregated into each patch feature (odd; stride 1, same padding).")]
    public int PatchSize { get; init; } = 3;

    [Option("pretrain_dim", "Each layer's patch vector (C·p² values) is adaptively average-pooled to this length.")]
    public int PretrainEmbedDimension { get; init; } = 1024;

    [Option("target_dim", "The layers' pooled vectors, concatenated, are adaptively average-pooled to this length.")]
    public int TargetEmbedDimension { get; init; } = 1024;

    [Option("coreset", "Fraction of training patches kept in the memory bank by greedy coreset selection; 1 keeps all (0.1 or 0.01 in the paper).")]
    public double CoresetRatio { get; init; } = 0.1;

    [Option("projection", "Dimension of the random projection used only to speed up coreset selection.")]
    public int CoresetProjectionDimension { get; init; } = 128;

    [Option("start_points", "Random start points whose mean distance initialises the coreset selection.")]
    public int CoresetStartPoints { get; init; } = 10;

    [Option("reweighting", "The paper's image-score re-weighting over this many nearest bank neighbours (Eq. 7); none = off, as in the official code.")]
    public int? ReweightingNeighbours { get; init; }

    [Option("denoising", "SoftPatch denoising of the training patches before the coreset, by this outlier score (for noisy training sets); none = off, as in PatchCore.")]
    public PatchOutlierMethod? Denoising { get; init; }

    [Option("discard", "With denoising: share of all training patches discarded, highest outlier scores first (SoftPatch: 0.15).")]
    public double DenoisingDiscardRatio { get; init; } = 0.15;

    [Option("lof_k", "With denoising: neighbours k of the LOF and kNN outlier scores, capped at training images − 1 (SoftPatch: 6).")]
    public int DenoisingNeighbours { get; init; } = 6;

    [Option("soft_weighting", "With denoising: multiply test distances by the matched bank patch's outlier score (SoftPatch's default).")]
    public bool SoftWeighting { get; init; } = true;

    [Option("bank_cap", "Most patch features the memory bank may hold when continual training adds tasks; none = no limit.")]
    public int? BankCap { get; init; }

    [Option("bank_cap_strategy", "How the bank is brought back to bank_cap: reservoir sampling over all tasks' features, or a coreset of the whole bank.")]
    public BankCapStrategy BankCapStrategy { get; init; } = BankCapStrategy.Reservoir;

    [Option("search", "Nearest-neighbour search over the memory bank: exact (the official results), or ivf, an approximate inverted file for very large banks that may miss a patch's nearest bank feature (docs/models.md).")]
    public BankSearch Search { get; init; } = BankSearch.Exact;

    [Option("ivf_lists", "With search=ivf: k-means lists the bank is split into; none = ⌈4√(bank features)⌉.")]
    public int? IvfLists { get; init; }

    [Option("ivf_probes", "With search=ivf: nearest lists searched per patch; more is closer to exact and slower (all lists: exact).")]
    public int IvfProbes { get; init; } = 8;

    [Option("sigma", "σ (in network-input pixels) of the Gaussian smoothing of the anomaly map (4 in the paper).")]
    public double MapSigma { get; init; } = 4;

    [Option("batch", "Training images per feature-extraction batch (memory, not results).")]
    public int BatchSize { get; init; } = 8;

    /// <summary>The SoftPatch settings when denoising is on.</summary>
    public PatchDenoising? DenoisingSettings => Denoising is { } method
        ? new PatchDenoising { Method = method, DiscardRatio = DenoisingDiscardRatio, Neighbours = DenoisingNeighbours, SoftWeighting = SoftWeighting }
        : null;

    public void Validate()
    {
        if (PatchSize < 1 || PatchSize % 2 == 0) throw new VigilInputException($"PatchCore patch size {PatchSize} must be a positive odd number (3 in the paper).");
        if (PretrainEmbedDimension < 1 || TargetEmbedDimension < 1) throw new VigilInputException("PatchCore embedding dimensions must be positive (1024 in the paper).");
        if (CoresetRatio is <= 0 or > 1) throw new VigilInputException($"PatchCore coreset ratio {CoresetRatio} must be in (0, 1] (0.1 or 0.01 in the paper).");
        if (CoresetProjectionDimension < 1 || CoresetStartPoints < 1) throw new VigilInputException("PatchCore coreset projection dimension and start points must be positive (128 and 10).");
        if (ReweightingNeighbours < 1) throw new VigilInputException($"PatchCore re-weighting neighbours {ReweightingNeighbours} must be positive, or none for off.");
        if (!(MapSigma > 0)) throw new VigilInputException($"PatchCore map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"PatchCore batch size {BatchSize} must be at least 1.");
        if (BankCap < 1) throw new VigilInputException($"PatchCore bank cap {BankCap} must be positive, or none for no limit.");
        if (!Enum.IsDefined(BankCapStrategy)) throw new VigilInputException($"PatchCore bank cap strategy {BankCapStrategy} is unknown; use reservoir or coreset.");
        if (!Enum.IsDefined(Search)) throw new VigilInputException($"PatchCore search {Search} is unknown; use exact or ivf.");
        if (IvfLists < 1 || IvfProbes < 1) throw new VigilInputException($"PatchCore ivf_lists {IvfLists} and ivf_probes {IvfProbes} must be positive (lists: or none for ⌈4√N⌉).");
        if (Layers.Count == 0) throw new VigilInputException("PatchCore needs at least one layer (layer2+layer3 in the paper).");
        DenoisingSettings?.Validate();
    }
}

/// <summary>How a continually trained PatchCore keeps its memory bank within <see cref="PatchCoreOptions.BankCap"/>.</summary>
public enum BankCapStrategy
{
    /// <summary>
    /// Reservoir sampling (Vitter's algorithm R) over the stream of coreset features of all tasks: every feature
    /// offered so far is in the bank with the same probability cap / offered. Seeded by the fit's seed.
    /// </summary>
    Reservoir,

    /// <summary>Greedy k-center coreset of the whole (old + new) bank down to the cap: keeps the bank's coverage.</summary>
    Coreset,
}

/// <summary>How PatchCore finds a test patch's nearest memory-bank feature.</summary>
public enum BankSearch
{
    /// <summary>Exact search (<see cref="Components.NearestNeighbourIndex"/>): the official code's results.</summary>
    Exact,

    /// <summary>An inverted file (<see cref="Components.InvertedFileIndex"/>): approximate, for very large banks.</summary>
    Ivf,
}
