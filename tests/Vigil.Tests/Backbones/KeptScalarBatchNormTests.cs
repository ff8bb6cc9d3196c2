using TorchSharp;
using Vigil.Backbones;
using static TorchSharp.torch;

namespace Vigil.Tests.Backbones;

/// <summary>Vigil's BatchNorm against TorchSharp's own (the reference): same state names, outputs and running statistics.</summary>
public class KeptScalarBatchNormTests
{
    public static TheoryData<int, long[]> Inputs => new()
    {
        { 2, [6, 3, 5, 4] },
        { 1, [6, 3] },
        { 1, [6, 3, 7] },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void TrainsAndEvaluatesExactlyAsTorchSharpsBatchNorm(int spatialDims, long[] shape)
    {
        using var scope = NewDisposeScope();
        nn.Module<Tensor, Tensor> reference = spatialDims == 2 ? nn.BatchNorm2d(3) : nn.BatchNorm1d(3);
        var vigil = spatialDims == 2 ? KeptScalarBatchNorm.BatchNorm2d(3) : KeptScalarBatchNorm.BatchNorm1d(3);
        Assert.Equal(reference.state_dict().Keys.Order(), vigil.state_dict().Keys.Order());
        using (no_grad())
        {
            // Non-trivial affine parameters, identical in both.
            vigil.weight.copy_(tensor(new[] { 0.5f, 1.5f, -1f }));
            vigil.bias!.copy_(tensor(new[] { 0.1f, -0.2f, 0.3f }));
            reference.load_state_dict(vigil.state_dict());
        }
        using var generator = new Generator(7);
        for (int step = 0; step < 3; step++)
        {
            var x = randn(shape, generator: generator) * (step + 1) + step;
            Assert.True(Same(reference.call(x), vigil.call(x)), $"training output differs at step {step}");
        }
        var referenceState = reference.state_dict();
        foreach (var (name, value) in vigil.state_dict()) Assert.True(Same(referenceState[name], value), $"{name} differs after training");
        Assert.Equal(3, vigil.num_batches_tracked!.item<long>());

        reference.eval();
        vigil.eval();
        var test = randn(shape, generator: generator);
        Assert.True(Same(reference.call(test), vigil.call(test)), "evaluation output differs");
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void RefusesInputOfTheWrongRank()
    {
        using var norm = KeptScalarBatchNorm.BatchNorm2d(3);
        using var flat = zeros(4, 3);
        var error = Assert.Throws<ArgumentException>(() => norm.call(flat));
        Assert.Contains("4D", error.Message);
    }
}
