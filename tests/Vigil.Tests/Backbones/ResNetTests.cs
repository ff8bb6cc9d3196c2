using TorchSharp;
using Vigil.Backbones;
using Vigil.Tests.Weights;

namespace Vigil.Tests.Backbones;

public class ResNetTests
{
    /// <summary>Parameter counts published by torchvision (weights meta "num_params").</summary>
    [Theory]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet34", 21_797_672)]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("wide_resnet50_2", 68_883_240)]
    public void ParameterCountMatchesTorchVision(string name, long expected)
    {
        using var net = new ResNet(TorchBackbones.Architecture(name));
        Assert.Equal(expected, net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void StateDictNamesAreTorchVisionNames()
    {
        using var r18 = new ResNet(ResNetArchitecture.ResNet18);
        var keys = r18.state_dict().Keys.ToList();
        Assert.Equal(122, keys.Count); // torchvision resnet18: 62 parameters + 60 BatchNorm buffers
        Assert.Subset(keys.ToHashSet(), new HashSet<string> {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
            "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.1.bn2.bias", "fc.weight", "fc.bias" });
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer4.1.bn2.running_var", keys);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", keys); // 64 -> 64 at stride 1 needs no projection

        using var r50 = new ResNet(ResNetArchitecture.ResNet50);
        var k50 = r50.state_dict();
        Assert.Equal([256L, 64, 1, 1], k50["layer1.0.downsample.0.weight"].shape); // bottleneck widens at stage 1
        Assert.Equal([64L, 64, 3, 3], k50["layer1.0.conv2.weight"].shape);
        Assert.Equal([512L, 1024, 1, 1], k50["layer4.0.conv1.weight"].shape);

        using var wide = new ResNet(ResNetArchitecture.WideResNet50_2);
        Assert.Equal([128L, 128, 3, 3], wide.state_dict()["layer1.0.conv2.weight"].shape); // twice the bottleneck width
    }

    [Fact]
    public void RandomInitialisationIsDeterministicPerSeed()
    {
        using var a = new ResNet(ResNetArchitecture.ResNet18);
        using var b = new ResNet(ResNetArchitecture.ResNet18);
        using var c = new ResNet(ResNetArchitecture.ResNet18);
        a.InitialiseRandomly(5); b.InitialiseRandomly(5); c.InitialiseRandomly(6);
        var (sa, sb, sc) = (a.state_dict(), b.state_dict(), c.state_dict());
        Assert.All(sa.Keys, k => Assert.True(StateFiles.Identical(sa[k], sb[k]), k));
        Assert.False(StateFiles.Identical(sa["conv1.weight"], sc["conv1.weight"]));
        // Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (64 * 7 * 7)) ~ 0.0253
        Assert.InRange(sa["conv1.weight"].std().item<float>(), 0.0253 * 0.95, 0.0253 * 1.05);
    }
}

/// <summary>
/// One bottleneck block against its definition written out with plain tensor ops: torchvision's v1.5 places the
/// stride on the 3×3 convolution (conv2) and projects the shortcut with a strided 1×1 convolution + BatchNorm;
/// eval-mode BatchNorm is (x − mean) / √(var + 1e-5) · γ + β. Shapes alone cannot tell where the stride sits.
/// </summary>
public class BottleneckDefinitionTests
{
    [Fact]
    public void FirstBlockOfLayer2MatchesTheWrittenOutDefinition()
    {
        using var net = new ResNet(ResNetArchitecture.ResNet50);
        net.InitialiseRandomly(11);
        var g = new torch.Generator(12);
        var state = net.state_dict();
        using (torch.no_grad())
            foreach (var (name, t) in state)
            {
                if (name.EndsWith("running_mean") || name.EndsWith("bias")) t.copy_(torch.randn(t.shape, generator: g) * 0.1);
                if (name.EndsWith("running_var") || name.EndsWith("bn1.weight") || name.EndsWith("bn2.weight") || name.EndsWith("bn3.weight")) t.copy_(torch.rand(t.shape, generator: g) + 0.5);
            }
        net.eval();
        var block = (torch.nn.Module<torch.Tensor, torch.Tensor>)net.named_modules().Single(m => m.name == "layer2.0").module;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.randn([1, 256, 16, 16], generator: g);

        torch.Tensor W(string n) => state["layer2.0." + n];
        torch.Tensor Bn(torch.Tensor v, string bn) =>
            (v - W(bn + ".running_mean").view(1, -1, 1, 1)) / (W(bn + ".running_var").view(1, -1, 1, 1) + 1e-5).sqrt()
            * W(bn + ".weight").view(1, -1, 1, 1) + W(bn + ".bias").view(1, -1, 1, 1);
        var y = Bn(torch.nn.functional.conv2d(x, W("conv1.weight")), "bn1").relu();
        y = Bn(torch.nn.functional.conv2d(y, W("conv2.weight"), strides: [2, 2], padding: [1, 1]), "bn2").relu();
        y = Bn(torch.nn.functional.conv2d(y, W("conv3.weight")), "bn3");
        var shortcut = Bn(torch.nn.functional.conv2d(x, W("downsample.0.weight"), strides: [2, 2]), "downsample.1");
        var expected = (y + shortcut).relu();

        var actual = block.call(x);
        Assert.Equal([1L, 512, 8, 8], actual.shape);
        float scale = expected.abs().max().item<float>(), diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 1e-5f * scale, $"difference {diff} of {scale}");
    }
}
