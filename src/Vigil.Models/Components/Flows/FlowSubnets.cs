using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// The coupling subnets the flow detectors pass to <see cref="AllInOneBlock"/>, initialised as PyTorch initialises
/// <c>nn.Conv2d</c> and <c>nn.Linear</c> (Kaiming-uniform with a = √5, i.e. weight and bias uniform in ±1/√fan_in),
/// drawing from a generator so the same seed gives the same network.
/// </summary>
public static class FlowSubnets
{
    /// <summary>
    /// FastFlow's <c>subnet_conv</c>: Conv(k × k, "same" padding) to ⌊in · hidden ratio⌋ channels, ReLU, Conv(k × k) to
    /// <paramref name="outChannels"/>.
    /// </summary>
    public static Sequential Convolutional(int inChannels, int outChannels, int kernel, double hiddenRatio, Generator generator)
    {
        if (kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), "'same' padding needs an odd kernel.");
        int hidden = (int)(inChannels * hiddenRatio);
        if (hidden < 1) throw new VigilInputException($"hidden_ratio={hiddenRatio} leaves no hidden channel for a subnet of {inChannels} input channels.");
        var subnet = nn.Sequential(
            nn.Conv2d(inChannels, hidden, kernel, padding: kernel / 2),
            nn.ReLU(),
            nn.Conv2d(hidden, outChannels, kernel, padding: kernel / 2));
        Initialise(subnet, generator);
        return subnet;
    }

    /// <summary>CFlow's <c>subnet_fc</c>: Linear(in → 2·in), ReLU, Linear(2·in → <paramref name="outChannels"/>).</summary>
    public static Sequential FullyConnected(int inChannels, int outChannels, Generator generator)
    {
        var subnet = nn.Sequential(nn.Linear(inChannels, 2 * inChannels), nn.ReLU(), nn.Linear(2 * inChannels, outChannels));
        Initialise(subnet, generator);
        return subnet;
    }

    /// <summary>PyTorch's default initialisation of every convolution and linear layer, from <paramref name="generator"/>.</summary>
    public static void Initialise(nn.Module module, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            var (weight, bias) = m switch
            {
                Conv2d c => (c.weight!, c.bias),
                Linear l => (l.weight!, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            double bound = 1 / Math.Sqrt(weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b)); // fan_in = in · k · k
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }
}
