namespace Vigil.Detectors.PatchCore;

/// <summary>How SoftPatch scores a training patch against the other training images' patches at its grid position.</summary>
public enum PatchOutlierMethod
{
    /// <summary>Local outlier factor (Breunig et al. 2000, as scikit-learn's LocalOutlierFactor) over k neighbours; SoftPatch's default.</summary>
    Lof,

    /// <summary>1 + mean Euclidean distance to the k nearest other patches (SoftPatch's "nearest" is k = 1).</summary>
    Knn,

    /// <summary>1 + Mahalanobis distance to the position's Gaussian (covariance + 0.01·I), as SoftPatch's "gaussian".</summary>
    Gaussian,
}

/// <summary>
/// SoftPatch (Jiang et al., NeurIPS 2022) patch-level denoising for PatchCore trained on noisy (partly anomalous)
/// images: each training patch gets an outlier score among the patches at the same feature-grid position of all
/// training images (features randomly projected to the coreset's projection dimension first, as SoftPatch), the
/// <see cref="DiscardRatio"/> highest-scoring patches over all positions are discarded before the coreset, and
/// with <see cref="SoftWeighting"/> a test patch's nearest-neighbour distance is multiplied by the outlier score of
/// the bank patch it matched (SoftPatch's soft re-weighting). In continual training each task's images are
/// denoised among themselves.
/// </summary>
public sealed record PatchDenoising
{
    public PatchOutlierMethod Method { get; init; } = PatchOutlierMethod.Lof;

    /// <summary>Share of all training patches discarded, the highest outlier scores first (SoftPatch's threshold, 0.15).</summary>
    public double DiscardRatio { get; init; } = 0.15;

    /// <summary>Neighbours k of the LOF and kNN scores, capped at training images − 1 (SoftPatch runs with lof_k = 6).</summary>
    public int Neighbours { get; init; } = 6;

    /// <summary>Multiply test distances by the matched bank patch's outlier score (SoftPatch's default).</summary>
    public bool SoftWeighting { get; init; } = true;

    internal void Validate()
    {
        if (!Enum.IsDefined(Method)) throw new VigilInputException($"PatchCore denoising method {Method} is unknown; use Lof, Knn or Gaussian.");
        if (DiscardRatio is < 0 or >= 1) throw new VigilInputException($"PatchCore denoising discard ratio {DiscardRatio} must be in [0, 1) (0.15 in SoftPatch).");
        if (Neighbours < 1) throw new VigilInputException($"PatchCore denoising neighbours {Neighbours} must be at least 1 (6 in SoftPatch).");
    }
}
