using Vigil.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using Vigil.Detectors.DevNet;
using static TorchSharp.torch;

namespace Vigil.Detectors.Dra;

/// <summary>
/// DRA's four heads (modeling/net.py) on feature maps [N, C, h, w], each giving image scores [N]: the holistic head
/// (global average pool, fc C→256, ReLU, fc 256→1, absolute value), the seen- and pseudo-anomaly heads (PlainHead: a
/// 1×1 convolution to a score map, the mean of its top-k |scores|) and the composite head (the mean reference feature
/// map minus the features, 3×3 convolution, BatchNorm, ReLU, then a PlainHead). Also holds the fixed test reference:
/// the mean feature map of the normal training images at each scale, flattened into one buffer (NaN until fitted).
/// </summary>
internal sealed class DraHeads : nn.Module
{
    private readonly Linear holistic_fc1, holistic_fc2;
    private readonly Conv2d seen_scoring, pseudo_scoring, composite_conv, composite_scoring;
    private readonly KeptScalarBatchNorm composite_bn;
    private readonly Tensor reference;
    private readonly long[][] _shapes;
    private readonly double _topK;

    /// <param name="shapes">The feature map's [C, h, w] at each scale, for the test reference.</param>
    public DraHeads(int channels, IReadOnlyList<long[]> shapes, double topK, long seed) : base("dra")
    {
        holistic_fc1 = nn.Linear(channels, 256);
        holistic_fc2 = nn.Linear(256, 1);
        seen_scoring = nn.Conv2d(channels, 1, 1);
        pseudo_scoring = nn.Conv2d(channels, 1, 1);
        composite_conv = nn.Conv2d(channels, channels, 3, padding: 1);
        composite_bn = KeptScalarBatchNorm.BatchNorm2d(channels);
        composite_scoring = nn.Conv2d(channels, 1, 1);
        _shapes = shapes.ToArray();
        _topK = topK;
        reference = full(_shapes.Sum(s => s[0] * s[1] * s[2]), double.NaN, ScalarType.Float32);
        // PyTorch's default Linear and Conv2d initialisation (weight and bias uniform ±1/√fan_in), drawn from the seed alone.
        using var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (weight, bias) in new (Tensor, Tensor?)[]
            {
                (holistic_fc1.weight!, holistic_fc1.bias), (holistic_fc2.weight!, holistic_fc2.bias), (seen_scoring.weight!, seen_scoring.bias),
                (pseudo_scoring.weight!, pseudo_scoring.bias), (composite_conv.weight!, composite_conv.bias), (composite_scoring.weight!, composite_scoring.bias),
            })
            {
                double bound = 1 / Math.Sqrt(weight[0].numel());
                weight.uniform_(-bound, bound, generator);
                bias?.uniform_(-bound, bound, generator);
            }
        RegisterComponents();
    }

    public bool HasReference => !reference.isnan().any().item<bool>();

    /// <summary>HolisticHead: |fc2(ReLU(fc1(avg-pool(x))))| [N] (dropout 0, as the official default).</summary>
    public Tensor Holistic(Tensor features) =>
        holistic_fc2.call(nn.functional.relu(holistic_fc1.call(features.mean([2, 3])))).abs().squeeze(1);

    /// <summary>The seen-anomaly head's score maps [N, h, w] (its image scores are their top-k |score| means).</summary>
    public Tensor SeenMaps(Tensor features) => seen_scoring.call(features).squeeze(1);

    public Tensor Seen(Tensor features) => DevNetDetector.ImageScores(SeenMaps(features), _topK);

    public Tensor Pseudo(Tensor features) => DevNetDetector.ImageScores(pseudo_scoring.call(features).squeeze(1), _topK);

    /// <summary>CompositeHead: the PlainHead of ReLU(BN(conv3×3(reference − x))), reference [C, h, w] the mean reference feature map.</summary>
    public Tensor Composite(Tensor features, Tensor reference) =>
        DevNetDetector.ImageScores(composite_scoring.call(nn.functional.relu(composite_bn.call(composite_conv.call(reference.unsqueeze(0) - features)))).squeeze(1), _topK);

    /// <summary>The fixed test reference of scale <paramref name="scale"/> [C, h, w].</summary>
    public Tensor Reference(int scale)
    {
        if (!HasReference) throw new InvalidOperationException("DRA's test reference is fitted when training finishes; this network was not trained.");
        long offset = _shapes.Take(scale).Sum(s => s[0] * s[1] * s[2]);
        var shape = _shapes[scale];
        return reference.narrow(0, offset, shape[0] * shape[1] * shape[2]).view(shape);
    }

    /// <summary>Sets the test reference from the mean feature map [C, h, w] of each scale.</summary>
    public void SetReference(IReadOnlyList<Tensor> means)
    {
        using var noGrad = no_grad();
        reference.copy_(cat(means.Select(m => m.flatten()).ToArray(), 0));
    }
}
