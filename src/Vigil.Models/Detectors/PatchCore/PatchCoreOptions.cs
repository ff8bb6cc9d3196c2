namespace Vigil.Detectors;

/// <summary>PatchCore settings; defaults follow the official implementation (amazon-science/patchcore-inspection).</summary>
public sealed record PatchCoreOptions
{
    /// <summary>Layers whose patch features are combined; the first sets the feature grid.</summary>
    public IReadOnlyList<string> Layers { get; init; } = ["layer2", "layer3"];

    /// <summary>Side of the local neighbourhood aggregated into each patch feature (stride 1, same padding).</summary>
    public int PatchSize { get; init; } = 3;

    /// <summary>Each layer's patch vector (C·p² values) is adaptively average-pooled to this length.</summary>
    public int PretrainEmbedDimension { get; init; } = 1024;

    /// <summary>The layers' pooled vectors, concatenated, are adaptively average-pooled to this length.</summary>
    public int TargetEmbedDimension { get; init; } = 1024;

    /// <summary>Fraction of training patches kept in the memory bank by greedy coreset selection; 1 keeps all.</summary>
    public double CoresetRatio { get; init; } = 0.1;

    /// <summary>Dimension of the random projection used only to speed up coreset selection.</summary>
    public int CoresetProjectionDimension { get; init; } = 128;

    /// <summary>Random start points whose mean distance initialises the coreset selection.</summary>
    public int CoresetStartPoints { get; init; } = 10;

    /// <summary>Seed of the coreset's projection and start points.</summary>
    public long Seed { get; init; } = 0;

    /// <summary>
    /// The paper's image-score re-weighting over the b nearest bank neighbours of the most anomalous patch's
    /// nearest bank feature; null = off, as in the official code.
    /// </summary>
    public int? ReweightingNeighbours { get; init; }

    /// <summary>
    /// SoftPatch-style denoising of the training patches before the coreset (for noisy training sets); null = off,
    /// as in PatchCore.
    /// </summary>
    public PatchDenoising? Denoising { get; init; }

    /// <summary>
    /// Most patch features the memory bank may hold when continual training (<see cref="PatchCoreDetector.FitMore"/>)
    /// adds tasks; null = no limit. When exceeded, <see cref="BankCapStrategy"/> re-samples the bank to this size.
    /// </summary>
    public int? BankCap { get; init; }

    /// <summary>How the memory bank is brought back to <see cref="BankCap"/>.</summary>
    public BankCapStrategy BankCapStrategy { get; init; } = BankCapStrategy.Reservoir;

    /// <summary>σ (in network-input pixels) of the Gaussian smoothing of the anomaly map.</summary>
    public double MapSigma { get; init; } = 4;

    /// <summary>Training images per feature-extraction batch.</summary>
    public int BatchSize { get; init; } = 8;

    internal void Validate()
    {
        if (PatchSize < 1 || PatchSize % 2 == 0) throw new VigilInputException($"PatchCore patch size {PatchSize} must be a positive odd number (3 in the paper).");
        if (PretrainEmbedDimension < 1 || TargetEmbedDimension < 1) throw new VigilInputException("PatchCore embedding dimensions must be positive (1024 in the paper).");
        if (CoresetRatio is <= 0 or > 1) throw new VigilInputException($"PatchCore coreset ratio {CoresetRatio} must be in (0, 1] (0.1 or 0.01 in the paper).");
        if (CoresetProjectionDimension < 1 || CoresetStartPoints < 1) throw new VigilInputException("PatchCore coreset projection dimension and start points must be positive (128 and 10).");
        if (ReweightingNeighbours < 1) throw new VigilInputException($"PatchCore re-weighting neighbours {ReweightingNeighbours} must be positive, or null for off.");
        if (!(MapSigma > 0)) throw new VigilInputException($"PatchCore map sigma {MapSigma} must be positive (4 in the paper).");
        if (BatchSize < 1) throw new VigilInputException($"PatchCore batch size {BatchSize} must be at least 1.");
        if (BankCap < 1) throw new VigilInputException($"PatchCore bank cap {BankCap} must be positive, or null for no limit.");
        if (!Enum.IsDefined(BankCapStrategy)) throw new VigilInputException($"PatchCore bank cap strategy {BankCapStrategy} is unknown; use Reservoir or Coreset.");
        Denoising?.Validate();
    }
}

/// <summary>How a continually trained PatchCore keeps its memory bank within <see cref="PatchCoreOptions.BankCap"/>.</summary>
public enum BankCapStrategy
{
    /// <summary>
    /// Reservoir sampling (Vitter's algorithm R) over the stream of coreset features of all tasks: every feature
    /// offered so far is in the bank with the same probability cap / offered. Seeded by the options' seed.
    /// </summary>
    Reservoir,

    /// <summary>Greedy k-center coreset of the whole (old + new) bank down to the cap: keeps the bank's coverage.</summary>
    Coreset,
}
