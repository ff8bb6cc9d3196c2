using Vigil.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Detectors.SimpleNet;

/// <summary>SimpleNet's trained networks and loss, as simplenet.py defines them (Projection, Discriminator, _train_discriminator).</summary>
public static class SimpleNetNetworks
{
    /// <summary>
    /// The feature adaptor (<c>Projection</c> with proj_layer_type 0): <paramref name="layers"/> Linear(d → d) layers
    /// without activations, Xavier-normal weights and PyTorch's default biases.
    /// </summary>
    public static Sequential Adaptor(int dimension, int layers, Generator generator)
    {
        var adaptor = nn.Sequential(Enumerable.Range(0, layers).Select(i => ($"{i}fc", (nn.Module<Tensor, Tensor>)nn.Linear(dimension, dimension))).ToArray());
        Initialise(adaptor, generator);
        return adaptor;
    }

    /// <summary>
    /// The discriminator: <paramref name="layers"/> − 1 blocks Linear → BatchNorm1d → LeakyReLU(0.2) of width
    /// <paramref name="hidden"/> (none: each block ⌊previous width / 1.5⌋, as the official fallback), then a linear tail
    /// to one score without bias; Xavier-normal weights. (With one layer the tail reads the features themselves; the
    /// official code would give it <paramref name="hidden"/> inputs and fail.)
    /// </summary>
    public static Sequential Discriminator(int dimension, int layers, int? hidden, Generator generator)
    {
        var body = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = dimension;
        for (int i = 0; i < layers - 1; i++)
        {
            int input = width;
            width = hidden ?? (int)(width / 1.5);
            body.Add(($"block{i + 1}", nn.Sequential(nn.Linear(input, width), KeptScalarBatchNorm.BatchNorm1d(width), nn.LeakyReLU(0.2))));
        }
        var discriminator = nn.Sequential(("body", nn.Sequential(body.ToArray())), ("tail", nn.Linear(width, 1, hasBias: false)));
        Initialise(discriminator, generator);
        return discriminator;
    }

    /// <summary>
    /// The truncated L1 loss: mean(max(0, th − s_normal)) + mean(max(0, th + s_anomalous)), pushing normal scores above
    /// th and anomalous ones below −th.
    /// </summary>
    public static Tensor TruncatedL1(Tensor normalScores, Tensor anomalousScores, double margin) =>
        (margin - normalScores).clamp_min(0).mean() + (anomalousScores + margin).clamp_min(0).mean();

    /// <summary>
    /// simplenet.py's <c>init_weight</c>: Xavier-normal linear weights (std √(2 / (fan_in + fan_out))); biases as PyTorch's
    /// default (uniform ±1/√fan_in); BatchNorm at weight 1, bias 0. Draws from <paramref name="generator"/> only.
    /// </summary>
    private static void Initialise(nn.Module module, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            if (m is not Linear linear) continue;
            var weight = linear.weight!;
            long fanOut = weight.shape[0], fanIn = weight.shape[1];
            weight.normal_(0, Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
            linear.bias?.uniform_(-1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn), generator);
        }
    }
}
