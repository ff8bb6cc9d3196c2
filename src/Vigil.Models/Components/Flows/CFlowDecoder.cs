using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// CFlow-AD's decoders (Gudovskiy et al. 2022) as gudovskiy/cflow-ad computes them: one conditional flow per feature
/// layer over feature vectors ("fibres": every position of a map is one sample) conditioned on the 2D positional
/// encoding of the position (model.py freia_cflow_head, subnet_fc, positionalencoding2d; utils.py get_logp; train.py
/// the fibre reshaping, the loss and the test-time map).
/// </summary>
public static class CFlowDecoder
{
    /// <summary>
    /// model.py's freia_cflow_head: <paramref name="couplingBlocks"/> <see cref="AllInOneBlock"/>s on [E, C] fibres,
    /// each with subnet_fc (Linear(in → 2·in), ReLU, Linear), clamp α, SOFTPLUS global scaling, a soft permutation and
    /// the condition [E, <paramref name="conditionChannels"/>] (0: freia_flow_head, the unconditional variant).
    /// State names: module_list.{i}.{global_scale, global_offset, w_perm, w_perm_inv, subnet.0|2.weight|bias}.
    /// </summary>
    /// <param name="channels">C of the layer's features.</param>
    /// <param name="seed">Draws the rotations and the subnets' initial weights.</param>
    /// <param name="couplingBlocks">-cb, coupling_blocks (8).</param>
    /// <param name="clampAlpha">clamp_alpha (1.9).</param>
    /// <param name="conditionChannels">condition_vec, the positional encoding's channels (128).</param>
    public static SequenceInn Create(int channels, long seed, int couplingBlocks = 8, double clampAlpha = 1.9, int conditionChannels = 128)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(couplingBlocks, 1);
        using var generator = new Generator((ulong)seed);
        return new SequenceInn(Enumerable.Range(0, couplingBlocks).Select(_ => new AllInOneBlock(channels, 0, conditionChannels,
            (input, output) => FlowSubnets.FullyConnected(input, output, generator), generator, clampAlpha,
            globalAffine: GlobalAffine.Softplus, permuteSoft: true)).ToList());
    }

    /// <summary>
    /// train.py's fibres: features [B, C, H, W] as rows [B·H·W, C], image by image, each in row-major position order
    /// (<c>e.reshape(B, C, S).transpose(1, 2).reshape(E, C)</c>).
    /// </summary>
    public static Tensor Fibers(Tensor features)
    {
        var (b, c) = (features.shape[0], features.shape[1]);
        return features.reshape(b, c, -1).transpose(1, 2).reshape(-1, c);
    }

    /// <summary>
    /// train.py's conditions: the positional encoding [P, H, W] of an H × W map as rows [B·H·W, P], matching
    /// <see cref="Fibers"/> row for row.
    /// </summary>
    public static Tensor Conditions(int conditionChannels, int batch, int height, int width)
    {
        using var scope = NewDisposeScope();
        var p = PositionalEncoding.TwoDimensional(conditionChannels, height, width);
        return Fibers(p.unsqueeze(0).expand(batch, -1, -1, -1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// train.py's log_prob: get_logp(C, z, log|det J|) / C, the log-likelihood of each fibre per dimension, from the
    /// decoder's output z [E, C].
    /// </summary>
    public static Tensor LogLikelihoodPerDimension(Tensor z, Tensor logDet) => FlowLikelihood.Gaussian(z, logDet) / z.shape[1];

    /// <summary>
    /// train.py's per-fibre loss −log σ(log_prob) (<c>-log_theta(log_prob)</c>); the reference back-propagates its mean
    /// over the fibre batch.
    /// </summary>
    public static Tensor Loss(Tensor logLikelihoodPerDimension) => -nn.functional.logsigmoid(logLikelihoodPerDimension);

    /// <summary>
    /// train.py's test-time map [N, H, W] (float64) at <paramref name="height"/> × <paramref name="width"/>, from each
    /// layer's per-dimension log-likelihoods [N, h_l, w_l] of N images: per layer exp(log_prob − max), upsampled
    /// bilinearly with align_corners true, summed over layers; the anomaly map is (its maximum − it). The image score
    /// is the map's maximum over the image (train.py's score_label).
    /// The reference takes both maxima over the whole test set at once (<c>torch.max(test_norm)</c>,
    /// <c>score_mask.max()</c>), so an image's map depends on the other images scored with it; pass
    /// <paramref name="layerMaxima"/> and <paramref name="mapMaximum"/> to use fixed constants instead (null: the
    /// maxima over the <paramref name="logLikelihoods"/> given, as the reference).
    /// </summary>
    public static Tensor AnomalyMaps(IReadOnlyList<Tensor> logLikelihoods, int height, int width, IReadOnlyList<double>? layerMaxima = null, double? mapMaximum = null)
    {
        if (logLikelihoods.Count == 0) throw new ArgumentException("No layers.", nameof(logLikelihoods));
        if (layerMaxima is not null && layerMaxima.Count != logLikelihoods.Count)
            throw new ArgumentException($"{layerMaxima.Count} layer maxima for {logLikelihoods.Count} layers.", nameof(layerMaxima));
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int l = 0; l < logLikelihoods.Count; l++)
        {
            var norm = logLikelihoods[l].to_type(ScalarType.Float64);
            norm = layerMaxima is null ? norm - norm.max() : norm - layerMaxima[l];
            var probability = nn.functional.interpolate(norm.exp().unsqueeze(1), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: true).squeeze(1);
            sum = sum is null ? probability : sum + probability;
        }
        var anomaly = mapMaximum is { } m ? m - sum! : sum!.max() - sum!;
        return anomaly.MoveToOuterDisposeScope();
    }
}
