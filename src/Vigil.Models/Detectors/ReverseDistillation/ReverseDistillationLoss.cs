using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>Reverse Distillation's training loss, as main.py's <c>loss_fucntion</c>.</summary>
public static class ReverseDistillationLoss
{
    /// <summary>torch.nn.CosineSimilarity's and F.cosine_similarity's default ε, which the official code keeps.</summary>
    public const double CosineEpsilon = 1e-8;

    /// <summary>
    /// Σ over layers of mean over images of (1 − cos(a.view(N, −1), b.view(N, −1))): one cosine per image over the whole
    /// flattened map (channels and positions together, not per position), averaged over the batch, summed over the
    /// layers. <paramref name="encoder"/> and <paramref name="decoder"/> are the per-layer maps [N, C, h, w] in the same
    /// order (the official call is <c>loss_fucntion(inputs, outputs)</c>); the result is a scalar with gradients.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Tensor> encoder, IReadOnlyList<Tensor> decoder)
    {
        CheckPairs(encoder, decoder);
        Tensor? loss = null;
        for (int l = 0; l < encoder.Count; l++)
        {
            var a = encoder[l].reshape(encoder[l].shape[0], -1);
            var b = decoder[l].reshape(decoder[l].shape[0], -1);
            var layer = (1 - nn.functional.cosine_similarity(a, b, dim: 1, eps: CosineEpsilon)).mean();
            loss = loss is null ? layer : loss + layer;
        }
        return loss!;
    }

    /// <summary>Both lists hold the same number (≥ 1) of maps, pairwise of equal shape.</summary>
    internal static void CheckPairs(IReadOnlyList<Tensor> encoder, IReadOnlyList<Tensor> decoder)
    {
        if (encoder.Count == 0 || encoder.Count != decoder.Count)
            throw new ArgumentException($"Reverse Distillation compares encoder and decoder maps layer by layer: got {encoder.Count} and {decoder.Count} maps.");
        for (int l = 0; l < encoder.Count; l++)
            if (!encoder[l].shape.SequenceEqual(decoder[l].shape))
                throw new ArgumentException($"Layer {l}: encoder map [{string.Join(", ", encoder[l].shape)}] and decoder map [{string.Join(", ", decoder[l].shape)}] differ in shape.");
    }
}
