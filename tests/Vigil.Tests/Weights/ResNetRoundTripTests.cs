using TorchSharp;
using Vigil.Backbones;
using Vigil.Weights;

namespace Vigil.Tests.Weights;

/// <summary>
/// A full seeded ResNet18 state (random weights and random BatchNorm statistics) written in every format and loaded
/// into a differently initialised ResNet18 must reproduce every tensor and the network output bit for bit.
/// </summary>
public class ResNetRoundTripTests
{
    private static ResNet SeededResNet18(long seed, bool randomStatistics)
    {
        var net = new ResNet(ResNetArchitecture.ResNet18);
        net.InitialiseRandomly(seed);
        if (randomStatistics)
        {
            using var noGrad = torch.no_grad();
            var g = new torch.Generator((ulong)seed + 100);
            foreach (var (name, t) in net.state_dict())
            {
                if (name.EndsWith("running_mean")) t.copy_(torch.randn(t.shape, generator: g) * 0.1);
                if (name.EndsWith("running_var")) t.copy_(torch.rand(t.shape, generator: g) + 0.5);
                if (name.EndsWith("num_batches_tracked")) t.fill_(5);
            }
        }
        net.eval();
        return net;
    }

    public static TheoryData<string> Formats => ["zip", "legacy", "safetensors"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void ResNet18StateRoundTripsBitIdentically(string format)
    {
        using var source = SeededResNet18(1, randomStatistics: true);
        using var target = SeededResNet18(2, randomStatistics: false);
        using var input = torch.randn([2, 3, 64, 64], generator: new torch.Generator(7));
        using var expected = source.call(input);
        using (var before = target.call(input)) Assert.False(StateFiles.Identical(expected, before), "differently seeded networks must differ before loading");

        var path = StateFiles.TempPath(format == "safetensors" ? ".safetensors" : ".pth");
        try
        {
            switch (format)
            {
                case "zip": TorchSaveWriter.WriteZip(path, StateFiles.TorchEntries(source), archiveName: "resnet18-test"); break;
                case "legacy": TorchSaveWriter.WriteLegacy(path, StateFiles.TorchEntries(source)); break;
                default: SafeTensorsWriter.Write(path, StateFiles.SafeTensorsEntries(source)); break;
            }
            using (var state = WeightFile.Read(path))
            {
                Assert.Equal(122, state.Count); // torchvision resnet18 state_dict: 62 parameters + 60 BatchNorm buffers
                StateDictLoader.Load(target, state);
            }
            var sourceState = source.state_dict();
            foreach (var (name, t) in target.state_dict())
                Assert.True(StateFiles.Identical(sourceState[name], t), $"{name} differs after the {format} round trip");
            using var actual = target.call(input);
            Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }
}
