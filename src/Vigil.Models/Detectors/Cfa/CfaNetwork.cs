using TorchSharp;
using TorchSharp.Modules;
using Vigil.Components;
using Vigil.Components.Flows;
using static TorchSharp.torch;

namespace Vigil.Detectors.Cfa;

/// <summary>
/// CFA's trained part (utils/cfa.py DSVDD): the patch descriptor, a 1×1 CoordConv over the backbone layers averaged
/// 3×3 and concatenated on the first layer's grid (<c>descriptor</c>); the hypersphere radius r (<c>radius</c>,
/// trained); and the memory of centroids [M, D] (<c>memory</c>, a buffer: set once before training, saved with the
/// weights, never optimised).
/// </summary>
public sealed class CfaNetwork : nn.Module
{
    private readonly Conv2d descriptor;
    private readonly Parameter radius;
    private readonly Tensor memory;

    /// <param name="channels">Channels of the concatenated layers (448 for ResNet18's layer1–3).</param>
    /// <param name="dimension">The descriptor's output dimension D (⌊channels / gamma_d⌋).</param>
    /// <param name="centroids">Centroids M in the memory.</param>
    public CfaNetwork(int channels, int dimension, int centroids, double initialRadius, Generator generator) : base(nameof(CfaNetwork))
    {
        // CoordConv2d: a Conv2d over the input plus two coordinate channels, PyTorch's default initialisation.
        descriptor = nn.Conv2d(channels + 2, dimension, 1);
        radius = nn.Parameter(full(1, initialRadius, ScalarType.Float32));
        memory = zeros(centroids, dimension);
        RegisterComponents();
        FlowSubnets.Initialise(this, generator);
    }

    public int Centroids => (int)memory.shape[0];

    public Tensor Memory => memory;

    public Tensor Radius => radius;

    /// <summary>
    /// Descriptor.forward: each layer averaged over 3×3 neighbourhoods (stride 1, zero padding counted), brought to the
    /// first layer's grid bilinearly (align_corners=False), concatenated, then the CoordConv: [N, D, h, w].
    /// </summary>
    public Tensor Describe(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        var pooled = layers.Select(l => nn.functional.avg_pool2d(l, 3, 1, 1)).ToList();
        var sample = FeatureMaps.ConcatenateOnGrid(pooled, InterpolationMode.Bilinear);
        return descriptor.forward(WithCoordinates(sample)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// coordconv.py AddCoords (rank 2, no r): appends the row index and then the column index, each scaled to [−1, 1]
    /// (index / (size − 1) · 2 − 1), as two channels.
    /// </summary>
    public static Tensor WithCoordinates(Tensor input)
    {
        using var scope = NewDisposeScope();
        long n = input.shape[0], h = input.shape[2], w = input.shape[3];
        var rows = (arange(h, dtype: ScalarType.Float32) / (h - 1) * 2 - 1).reshape(1, 1, h, 1).expand(n, 1, h, w);
        var columns = (arange(w, dtype: ScalarType.Float32) / (w - 1) * 2 - 1).reshape(1, 1, 1, w).expand(n, 1, h, w);
        return cat([input, rows.to(input.dtype), columns.to(input.dtype)], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Replaces the memory with <paramref name="centroids"/> [M, D].</summary>
    public void SetMemory(Tensor centroids)
    {
        using var noGrad = no_grad();
        memory.copy_(centroids);
    }

    /// <summary>
    /// _soft_boundary: of each feature's K + J nearest centroids (squared distances d, ascending), the K nearest are
    /// attracted into the hypersphere, L_att = mean(max(0, d_k − r²)) / ν, and the next J repelled beyond it with
    /// margin α, L_rep = mean(max(0, r² − d_j − α)) / ν; the loss is L_att + L_rep.
    /// </summary>
    public static Tensor SoftBoundaryLoss(Tensor features, Tensor centroids, Tensor radius, int k, int j, double alpha, double nu)
    {
        using var scope = NewDisposeScope();
        // Squared distances not clamped at 0, as the official code.
        var nearest = NearestNeighbours.SquaredDistances(features, centroids).topk(k + j, dim: -1, largest: false, sorted: true).values;
        var squaredRadius = radius.square();
        var loss = (nearest.narrow(-1, 0, k) - squaredRadius).clamp_min(0).mean() / nu;
        // The official code takes dist[:, :, J:], the same columns as [K:] at its K = J = 3; the paper's hard negatives are the (K+1)th..(K+J)th.
        if (j > 0) loss = loss + (squaredRadius - nearest.narrow(-1, k, j) - alpha).clamp_min(0).mean() / nu;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// forward's score: of each feature's K nearest centroids by Euclidean distance (ascending), the nearest distance
    /// weighted by its softmin over the K, [N, P]; no gradient (<see cref="NearestNeighbours"/>, block by block).
    /// </summary>
    public static Tensor Scores(Tensor features, Tensor centroids, int k)
    {
        using var scope = NewDisposeScope();
        long n = features.shape[0], p = features.shape[1];
        var (squared, _) = NearestNeighbours.Search(features.reshape(n * p, -1), centroids, k);
        // The official sqrt of an unclamped difference gives NaN where rounding makes it negative; clamped at 0 here.
        var nearest = squared.clamp_min(0).sqrt();
        return (nn.functional.softmin(nearest, -1).select(-1, 0) * nearest.select(-1, 0)).reshape(n, p).MoveToOuterDisposeScope();
    }
}
