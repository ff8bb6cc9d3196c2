using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// PatchCore's locally aware patch features (patchcore-inspection's PatchMaker, Preprocessing and Aggregator, which
/// SimpleNet reuses): each layer's p×p neighbourhoods unfolded (zero padding, stride 1) into C·p² vectors, coarser layers
/// bilinearly resized to the first layer's grid, each layer's vector adaptively average-pooled to the pre-projection
/// length, the layers' results concatenated and pooled to the target length.
/// </summary>
public static class PatchEmbedding
{
    /// <summary>The embedding of <paramref name="layers"/> (the first sets the grid): [B, h·w, target], and the grid size.</summary>
    public static (Tensor Features, long Height, long Width) Embed(IReadOnlyList<Tensor> layers, int patchSize, int pretrainDimension, int targetDimension)
    {
        using var scope = NewDisposeScope();
        var first = layers[0];
        long batch = first.shape[0], h = first.shape[2], w = first.shape[3];
        int p = patchSize;
        var pooled = layers.Select(map =>
        {
            long c = map.shape[1];
            var patches = F.unfold(map, p, padding: (p - 1) / 2).reshape(batch, c * p * p, map.shape[2], map.shape[3]);
            patches = FeatureMaps.Resize(patches, h, w, InterpolationMode.Bilinear);
            var rows = patches.permute(0, 2, 3, 1).reshape(batch * h * w, 1, c * p * p);
            return FeatureMaps.AdaptiveAveragePool(rows, pretrainDimension); // [BHW, 1, pre]
        }).ToList();
        var joined = cat(pooled, 1).reshape(batch * h * w, 1, -1);
        var target = FeatureMaps.AdaptiveAveragePool(joined, targetDimension).reshape(batch, h * w, targetDimension);
        return (target.MoveToOuterDisposeScope(), h, w);
    }
}
