using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Detectors.ReverseDistillation;

/// <summary>Reverse Distillation's anomaly map before smoothing, as test.py's <c>cal_anomaly_map</c> in its evaluation.</summary>
public static class ReverseDistillationMap
{
    /// <summary>
    /// <c>cal_anomaly_map(inputs, outputs, out_size, amap_mode='a')</c> for a batch: per layer, 1 − the cosine along
    /// channels at each position (F.cosine_similarity, dim 1, ε = 1e-8), upsampled bilinearly with align_corners=True
    /// to <paramref name="height"/> × <paramref name="width"/>, and the layers added (the evaluation passes 'a', not
    /// the function's default 'mul'). Returns [N, height, width]; the evaluation then smooths it with a Gaussian (σ = 4)
    /// and takes its maximum as the image score.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Tensor> encoder, IReadOnlyList<Tensor> decoder, long height, long width)
    {
        ReverseDistillationLoss.CheckPairs(encoder, decoder);
        Tensor? map = null;
        for (int l = 0; l < encoder.Count; l++)
        {
            var layer = (1 - nn.functional.cosine_similarity(encoder[l], decoder[l], dim: 1, eps: ReverseDistillationLoss.CosineEpsilon)).unsqueeze(1);
            layer = nn.functional.interpolate(layer, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: true);
            map = map is null ? layer : map + layer;
        }
        return map!.squeeze(1);
    }
}
