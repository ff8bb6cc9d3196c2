using TorchSharp;
using Vigil.Components.Flows;
using static TorchSharp.torch;

namespace Vigil.Tests.Components.Flows;

public class SequenceInnTests
{
    [Fact]
    public void ChainsItsBlocksAndSumsTheirLogDetsAndReverseInvertsTheChain()
    {
        using var generator = new Generator(2);
        var blocks = Enumerable.Range(0, 3).Select(_ => new AllInOneBlock(6, 0, 4, (i, o) => FlowSubnets.FullyConnected(i, o, generator), generator,
            clamp: 1.9, permuteSoft: true)).ToArray();
        var flow = new SequenceInn(blocks);
        var x = randn([5, 6], generator: generator);
        var c = randn([5, 4], generator: generator);
        using var noGrad = no_grad();
        var (z, logDet) = flow.Forward(x, c);

        var expected = x;
        var sum = zeros(5);
        foreach (var block in blocks)
        {
            (expected, var j) = block.Forward(expected, c);
            sum += j;
        }
        Assert.True(z.allclose(expected, rtol: 0, atol: 0));
        Assert.True(logDet.allclose(sum, rtol: 1e-6, atol: 1e-6));

        var (back, reverse) = flow.Forward(z, c, reverse: true);
        Assert.True(back.allclose(x, rtol: 1e-4, atol: 1e-5));
        Assert.True(reverse.allclose(-logDet, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void StateNamesAreFrEIAs()
    {
        using var generator = new Generator(0);
        var flow = new SequenceInn([new AllInOneBlock(4, 2, 0, (i, o) => FlowSubnets.Convolutional(i, o, 3, 1.0, generator), generator)]);
        string[] frEIA =
            ["module_list.0.global_scale", "module_list.0.global_offset", "module_list.0.subnet.0.weight", "module_list.0.subnet.0.bias",
             "module_list.0.subnet.2.weight", "module_list.0.subnet.2.bias", "module_list.0.w_perm", "module_list.0.w_perm_inv"];
        Assert.Equal(frEIA.Order(), flow.state_dict().Keys.Order());
    }
}
