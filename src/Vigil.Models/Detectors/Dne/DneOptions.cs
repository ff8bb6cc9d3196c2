using Vigil.Detectors.Options;

namespace Vigil.Detectors.Dne;

/// <summary>Which Gaussian scores a test image after one or more tasks.</summary>
public enum DneScoring
{
    /// <summary>
    /// The reference (with_dne=True): one Gaussian fitted on embeddings replayed from every earlier task's stored
    /// Gaussian (as many as that task had training images) together with the last task's own embeddings.
    /// </summary>
    Replay,

    /// <summary>The reference with with_dne=False: the last task's Gaussian only (what a detector without DNE forgets with).</summary>
    Current,

    /// <summary>
    /// Not in the reference: the task whose stored Gaussian is nearest (smallest Mahalanobis distance) is taken as the
    /// image's task, and that distance is the score.
    /// </summary>
    Task,
}

/// <summary>
/// DNE settings; defaults follow the official code (vijaylee/Continual_Anomaly_Detection, configs/cad.yaml and
/// argument.py) where Vigil runs the same computation; the fine-tuning of the backbone is not reproduced (docs/models.md).
/// </summary>
public sealed record DneOptions : IDetectorOptions
{
    [Option("layer", "Backbone layer whose global average pool is the image embedding (the reference's ResNet: layer4 with fc = Identity; its ViT: the class token).")]
    public string Layer { get; init; } = "layer4";

    [Option("scoring", "Gaussian that scores a test image: replay (the reference's DNE: one Gaussian over embeddings sampled from every earlier task's Gaussian plus the last task's), current (with_dne=false: the last task's only), task (not in the reference: the nearest task's Gaussian).")]
    public DneScoring Scoring { get; init; } = DneScoring.Replay;

    [Option("batch", "Images per feature-extraction batch (memory, not results; the reference's 32).")]
    public int BatchSize { get; init; } = 32;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Layer)) throw new VigilInputException("DNE needs a backbone layer (layer4 in the reference's ResNet).");
        if (!Enum.IsDefined(Scoring)) throw new VigilInputException($"DNE scoring {Scoring} must be replay, current or task.");
        if (BatchSize < 1) throw new VigilInputException($"DNE batch size {BatchSize} must be at least 1.");
    }
}
