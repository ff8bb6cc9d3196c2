using TorchSharp;
using Vigil.Components.Flows;
using static TorchSharp.torch;

namespace Vigil.Tests.Components.Flows;

/// <summary>
/// The AllInOneBlock against a hand computation of FrEIA's formulas, its inverse, and its log-det against the log
/// determinant of the autograd Jacobian.
/// </summary>
public class AllInOneBlockTests
{
    /// <summary>
    /// C = 3 (x₁ = 2 channels, x₂ = 1), vectors, a linear subnet with known weights, a chosen global scaling and
    /// offset: every step computed by hand in double precision from FrEIA's code.
    /// </summary>
    [Theory]
    [InlineData(SoftClamp.Tanh, GlobalAffine.Softplus)]
    [InlineData(SoftClamp.Atan, GlobalAffine.Sigmoid)]
    [InlineData(SoftClamp.Tanh, GlobalAffine.Exp)]
    public void ForwardIsFrEIAsFormulaOnAHandComputedCase(SoftClamp softClamp, GlobalAffine affine)
    {
        double[,] w = { { 0.5, -1.0 }, { 2.0, 0.25 } };
        double[] b = [0.3, -0.7];
        double[] gamma = [0.5, 1.5, -0.25], beta = [0.1, -0.2, 0.3];
        const double clamp = 1.9;
        using var generator = new Generator(7);
        var subnet = nn.Linear(2, 2);
        var block = new AllInOneBlock(3, 0, 0, (i, o) =>
        {
            Assert.Equal((2, 2), (i, o));
            return subnet;
        }, generator, clamp, softClamp, affine);
        using (no_grad())
        {
            subnet.weight!.copy_(tensor(new[] { 0.5f, -1f, 2f, 0.25f }, [2, 2]));
            subnet.bias!.copy_(tensor(new[] { 0.3f, -0.7f }));
            var state = block.state_dict();
            state["global_scale"].copy_(tensor(gamma.Select(v => (float)v).ToArray(), [1, 3]));
            state["global_offset"].copy_(tensor(beta.Select(v => (float)v).ToArray(), [1, 3]));
        }
        long[] permutation = block.state_dict()["w_perm"].data<long>().ToArray();

        double[][] inputs = [[0.8, -1.2, 2.0], [-0.3, 0.9, -1.5]];
        var (output, logDet) = block.Forward(tensor(inputs.SelectMany(r => r.Select(v => (float)v)).ToArray(), [2, 3]));
        for (int n = 0; n < 2; n++)
        {
            var x = inputs[n];
            double aS = 0.1 * (w[0, 0] * x[0] + w[0, 1] * x[1] + b[0]);
            double aT = 0.1 * (w[1, 0] * x[0] + w[1, 1] * x[1] + b[1]);
            double s = softClamp == SoftClamp.Tanh ? clamp * Math.Tanh(aS) : clamp * 0.636 * Math.Atan(aS);
            double[] u = [x[0], x[1], x[2] * Math.Exp(s) + aT];
            double[] psi = gamma.Select(g => affine switch
            {
                GlobalAffine.Softplus => 0.1 * 2 * Math.Log(1 + Math.Exp(0.5 * g)),
                GlobalAffine.Sigmoid => 10 / (1 + Math.Exp(-(g - 2))),
                _ => Math.Exp(g),
            }).ToArray();
            double[] scaled = [.. u.Select((v, c) => v * psi[c] + beta[c])];
            for (int c = 0; c < 3; c++) Assert.Equal(scaled[permutation[c]], output[n, c].item<float>(), 5);
            Assert.Equal(s + psi.Sum(Math.Log), logDet[n].item<float>(), 5);
        }
    }

    [Theory]
    [InlineData(0, 0, false, SoftClamp.Tanh)]
    [InlineData(0, 5, true, SoftClamp.Tanh)]
    [InlineData(2, 0, false, SoftClamp.Atan)]
    [InlineData(2, 4, true, SoftClamp.Tanh)]
    public void ReverseUndoesForwardAndNegatesTheLogDet(int spatialDims, int conditionChannels, bool soft, SoftClamp softClamp)
    {
        using var generator = new Generator(3);
        var block = Block(5, spatialDims, conditionChannels, soft, softClamp, generator);
        long[] shape = spatialDims == 0 ? [6, 5] : [6, 5, 3, 4];
        var x = 2 * randn(shape, generator: generator);
        Tensor? condition = conditionChannels == 0 ? null
            : randn(spatialDims == 0 ? [6, conditionChannels] : [6, conditionChannels, 3, 4], generator: generator);
        using var noGrad = no_grad();
        var (y, forward) = block.Forward(x, condition);
        Assert.False(y.allclose(x, rtol: 0, atol: 1e-3), "the block left its input unchanged");
        var (back, reverse) = block.Forward(y, condition, reverse: true);
        Assert.True(back.allclose(x, rtol: 1e-4, atol: 1e-5), $"reverse(forward(x)) differs from x by {(back - x).abs().max().item<float>()}");
        Assert.True(reverse.allclose(-forward, rtol: 1e-4, atol: 1e-5));
    }

    /// <summary>On a tiny map input (C·H·W = 16) in double precision, the block's log-det is ln|det ∂y/∂x| from autograd.</summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 3)]
    public void LogDetIsTheLogAbsoluteJacobianDeterminant(bool soft, int conditionChannels)
    {
        using var generator = new Generator(11);
        var block = Block(4, 2, conditionChannels, soft, SoftClamp.Tanh, generator);
        using (no_grad())
        {
            // Move away from the initial state (Ψ = 1, offset 0) so the global scaling's term counts.
            var state = block.state_dict();
            state["global_scale"].add_(randn(state["global_scale"].shape, generator: generator));
            state["global_offset"].add_(randn(state["global_offset"].shape, generator: generator));
        }
        block.to(ScalarType.Float64);
        var x = randn([1, 4, 2, 2], dtype: ScalarType.Float64, generator: generator).requires_grad_();
        Tensor? condition = conditionChannels == 0 ? null : randn([1, conditionChannels, 2, 2], dtype: ScalarType.Float64, generator: generator);
        var (y, logDet) = block.Forward(x, condition);
        var outputs = y.flatten();
        var jacobian = zeros(16, 16, dtype: ScalarType.Float64);
        for (int i = 0; i < 16; i++)
            jacobian[i] = autograd.grad([outputs[i]], [x], retain_graph: true)[0].flatten();
        var (sign, logAbsDet) = linalg.slogdet(jacobian);
        Assert.NotEqual(0.0, sign.item<double>());
        // A rotation stored in float32 has |det| = 1 only to about 10⁻⁷, which FrEIA's log-det (0 for a rotation) ignores too.
        Assert.Equal(logAbsDet.item<double>(), logDet.item<double>(), soft ? 6 : 10);
    }

    [Theory]
    [InlineData(GlobalAffine.Softplus, 1.0)]
    [InlineData(GlobalAffine.Softplus, 0.3)]
    [InlineData(GlobalAffine.Sigmoid, 1.0)]
    [InlineData(GlobalAffine.Sigmoid, 4.0)]
    [InlineData(GlobalAffine.Exp, 0.5)]
    public void TheGlobalScalingStartsAtItsInitialValue(GlobalAffine affine, double init)
    {
        using var generator = new Generator(0);
        var block = new AllInOneBlock(4, 2, 0, (i, o) => FlowSubnets.Convolutional(i, o, 1, 1.0, generator), generator, globalAffine: affine, globalAffineInit: init);
        using var noGrad = no_grad();
        var psi = block.GlobalScale();
        Assert.Equal([1, 4, 1, 1], psi.shape);
        Assert.All(psi.data<float>().ToArray(), v => Assert.Equal(init, v, 5));
    }

    [Fact]
    public void AHardPermutationReordersChannelsAndASoftOneRotatesThem()
    {
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var g3 = new Generator(6);
        var a = Block(8, 0, 0, false, SoftClamp.Tanh, g1).state_dict()["w_perm"].data<long>().ToArray();
        var b = Block(8, 0, 0, false, SoftClamp.Tanh, g2).state_dict()["w_perm"].data<long>().ToArray();
        var c = Block(8, 0, 0, false, SoftClamp.Tanh, g3).state_dict()["w_perm"].data<long>().ToArray();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), a.Order());
        Assert.Equal(a, b);    // the seed fixes the permutation
        Assert.NotEqual(a, c);

        using var g4 = new Generator(5);
        var rotation = Block(8, 2, 0, true, SoftClamp.Tanh, g4).state_dict()["w_perm"].reshape(8, 8).to_type(ScalarType.Float64);
        Assert.True(rotation.matmul(rotation.t()).allclose(eye(8, dtype: ScalarType.Float64), atol: 1e-6), "not orthogonal");
        Assert.Equal(1.0, linalg.det(rotation).item<double>(), 5);
        Assert.False(rotation.abs().allclose(eye(8, dtype: ScalarType.Float64), atol: 0.1), "a soft permutation should mix channels");
    }

    [Fact]
    public void AConditionIsRequiredExactlyWhenTheBlockHasConditionChannels()
    {
        using var generator = new Generator(0);
        var conditional = Block(4, 0, 2, false, SoftClamp.Tanh, generator);
        var plain = Block(4, 0, 0, false, SoftClamp.Tanh, generator);
        Assert.Throws<ArgumentException>(() => conditional.Forward(zeros(1, 4)));
        Assert.Throws<ArgumentException>(() => plain.Forward(zeros(1, 4), zeros(1, 2)));
    }

    private static AllInOneBlock Block(int channels, int spatialDims, int conditionChannels, bool soft, SoftClamp softClamp, Generator generator) =>
        new(channels, spatialDims, conditionChannels,
            (i, o) => spatialDims == 0 ? FlowSubnets.FullyConnected(i, o, generator) : FlowSubnets.Convolutional(i, o, 3, 1.0, generator),
            generator, clamp: 1.9, softClamp: softClamp, permuteSoft: soft);
}
