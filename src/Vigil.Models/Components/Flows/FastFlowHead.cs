using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// FastFlow's trained part (Yu et al. 2021) as gathierry/FastFlow fastflow.py computes it for a CNN backbone (IM-IAD's
/// open-iad models/fastflow/net.py is the same code; anomalib's torch_model.py the same numbers): for each feature
/// layer l with features [N, C, H, W], a LayerNorm over [C, H, W] with elementwise affine (<c>norms.l</c>), then a 2D
/// normalizing flow of <c>flow_steps</c> <see cref="AllInOneBlock"/>s (<c>nf_flows.l</c>, nf_fast_flow): hard
/// permutations, clamp 2, SOFTPLUS global scaling, convolutional subnets of kernel 3 in even-numbered steps and 1 in
/// odd-numbered ones (3 everywhere with conv3x3_only), hidden width ⌊C_in · hidden_ratio⌋.
/// State names are the reference's without its feature extractor: norms.{l}.weight|bias,
/// nf_flows.{l}.module_list.{i}.{global_scale, global_offset, w_perm, w_perm_inv, subnet.0|2.weight|bias}.
/// </summary>
public sealed class FastFlowHead : nn.Module
{
    private readonly ModuleList<LayerNorm> norms;       // the reference's names
    private readonly ModuleList<SequenceInn> nf_flows;

    /// <param name="layers">(C, H, W) of each feature layer; the LayerNorm spans exactly that shape.</param>
    /// <param name="seed">Draws the permutations and the subnets' initial weights.</param>
    /// <param name="flowSteps">Blocks per layer (flow_step: 8; 20 for the transformer backbones).</param>
    /// <param name="conv3x3Only">3×3 subnets in every step (false; gathierry's ResNet18 config: true).</param>
    /// <param name="hiddenRatio">Hidden channels of a subnet per input channel (1.0; 0.16 for the transformers).</param>
    /// <param name="clamp">The blocks' affine_clamping (2.0).</param>
    public FastFlowHead(IReadOnlyList<(int Channels, int Height, int Width)> layers, long seed, int flowSteps = 8, bool conv3x3Only = false,
        double hiddenRatio = 1.0, double clamp = 2.0) : base(nameof(FastFlowHead))
    {
        if (layers.Count == 0) throw new ArgumentException("FastFlow needs at least one feature layer.", nameof(layers));
        ArgumentOutOfRangeException.ThrowIfLessThan(flowSteps, 1);
        Layers = [.. layers];
        using var generator = new Generator((ulong)seed);
        norms = nn.ModuleList(layers.Select(l => nn.LayerNorm([l.Channels, l.Height, l.Width], elementwise_affine: true)).ToArray());
        nf_flows = nn.ModuleList(layers.Select(l => Flow(l.Channels, generator, flowSteps, conv3x3Only, hiddenRatio, clamp)).ToArray());
        RegisterComponents();
    }

    public IReadOnlyList<(int Channels, int Height, int Width)> Layers { get; }

    /// <summary>
    /// fastflow.py's nf_fast_flow: <paramref name="flowSteps"/> hard-permutation blocks on [N, C, H, W] maps whose
    /// subnets are 3×3 convolutions in steps 0, 2, 4… and 1×1 in steps 1, 3, 5… unless <paramref name="conv3x3Only"/>.
    /// </summary>
    public static SequenceInn Flow(int channels, Generator generator, int flowSteps = 8, bool conv3x3Only = false, double hiddenRatio = 1.0, double clamp = 2.0) =>
        new(Enumerable.Range(0, flowSteps).Select(i =>
        {
            int kernel = i % 2 == 1 && !conv3x3Only ? 1 : 3;
            return new AllInOneBlock(channels, 2, 0, (input, output) => FlowSubnets.Convolutional(input, output, kernel, hiddenRatio, generator),
                generator, clamp, permuteSoft: false);
        }).ToList());

    /// <summary>z [N, C, H, W] and log|det J| [N] of each layer's features (LayerNorm, then the flow), in layer order.</summary>
    public IReadOnlyList<(Tensor Z, Tensor LogDet)> Forward(IReadOnlyList<Tensor> features)
    {
        if (features.Count != Layers.Count) throw new ArgumentException($"FastFlow was built for {Layers.Count} feature layers; got {features.Count}.");
        var flows = new List<(Tensor, Tensor)>(features.Count);
        for (int l = 0; l < features.Count; l++)
        {
            var (c, h, w) = Layers[l];
            var f = features[l];
            if (f.dim() != 4 || f.shape[1] != c || f.shape[2] != h || f.shape[3] != w)
                throw new VigilInputException($"FastFlow's flow {l} was built for [N, {c}, {h}, {w}] features (its LayerNorm spans them) but got " +
                    $"[{string.Join(", ", f.shape)}]; use the backbone and input size it was trained with.");
            using var scope = NewDisposeScope();
            var (z, logDet) = nf_flows[l].Forward(norms[l].call(f));
            flows.Add((z.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope()));
        }
        return flows;
    }

    /// <summary>
    /// fastflow.py's loss: Σ over layers of the batch mean of ½ Σ_{c,h,w} z² − log|det J| (the negative log-likelihood
    /// in nats without its constant, not divided by the number of dimensions).
    /// </summary>
    public static Tensor Loss(IEnumerable<(Tensor Z, Tensor LogDet)> flows)
    {
        Tensor? loss = null;
        foreach (var (z, logDet) in flows)
        {
            using var scope = NewDisposeScope();
            var layer = (0.5 * z.square().sum([1, 2, 3]) - logDet).mean();
            loss = (loss is null ? layer : loss + layer).MoveToOuterDisposeScope();
        }
        return loss ?? throw new ArgumentException("No flow outputs.", nameof(flows));
    }

    /// <summary>
    /// fastflow.py's anomaly map [N, 1, H, W] at <paramref name="height"/> × <paramref name="width"/>: per layer
    /// −exp(−½ · mean_c z²), bilinearly upsampled (align_corners false), then the mean over layers. Higher is more
    /// anomalous; values lie in [−1, 0). The reference's image score (open-iad, anomalib) is the map's maximum.
    /// </summary>
    public static Tensor AnomalyMap(IEnumerable<Tensor> z, int height, int width)
    {
        using var scope = NewDisposeScope();
        var maps = z.Select(o => FeatureMaps.Resize(-(-o.square().mean([1], keepdim: true) * 0.5).exp(), height, width, InterpolationMode.Bilinear)).ToList();
        if (maps.Count == 0) throw new ArgumentException("No flow outputs.", nameof(z));
        return stack(maps, -1).mean([-1]).MoveToOuterDisposeScope();
    }
}
