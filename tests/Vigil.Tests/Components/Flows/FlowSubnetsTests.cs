using TorchSharp;
using TorchSharp.Modules;
using Vigil.Components.Flows;
using static TorchSharp.torch;

namespace Vigil.Tests.Components.Flows;

public class FlowSubnetsTests
{
    [Fact]
    public void ConvolutionalSubnetHasTheHiddenWidthAndSamePadding()
    {
        using var generator = new Generator(0);
        var subnet = FlowSubnets.Convolutional(10, 12, 3, 0.55, generator);
        var first = (Conv2d)subnet.children().First();
        Assert.Equal([5, 10, 3, 3], first.weight!.shape); // ⌊10 · 0.55⌋ = 5
        using var noGrad = no_grad();
        Assert.Equal([2, 12, 7, 9], subnet.call(zeros(2, 10, 7, 9)).shape);
    }

    /// <summary>PyTorch's default: weight and bias uniform in ±1/√fan_in; the generator's seed fixes them.</summary>
    [Fact]
    public void InitialisationIsPyTorchsDefaultAndSeeded()
    {
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        var a = FlowSubnets.FullyConnected(50, 8, g1);
        var b = FlowSubnets.FullyConnected(50, 8, g2);
        var first = (Linear)a.children().First();
        Assert.Equal([100, 50], first.weight!.shape);
        double bound = 1 / Math.Sqrt(50);
        Assert.InRange(first.weight.abs().max().item<float>(), 0.95 * bound, bound);
        Assert.InRange(first.bias!.abs().max().item<float>(), 0.8 * bound, bound);
        Assert.InRange(first.weight.std().item<float>(), 0.95 * bound / Math.Sqrt(3), 1.05 * bound / Math.Sqrt(3)); // uniform's σ
        foreach (var ((_, x), (_, y)) in a.named_parameters().Zip(b.named_parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0));
    }

    [Fact]
    public void GaussianLogLikelihoodIsTheStandardNormalDensityPlusTheLogDet()
    {
        var z = tensor(new[] { 0.5f, -1f, 2f, 0f, 0f, 0f }, [2, 3]);
        var logDet = tensor(new[] { 0.25f, -1f });
        var lp = FlowLikelihood.Gaussian(z, logDet);
        double Normal(double v) => -0.5 * Math.Log(2 * Math.PI) - v * v / 2;
        Assert.Equal(Normal(0.5) + Normal(-1) + Normal(2) + 0.25, lp[0].item<float>(), 5);
        Assert.Equal(3 * Normal(0) - 1, lp[1].item<float>(), 5);
    }
}
