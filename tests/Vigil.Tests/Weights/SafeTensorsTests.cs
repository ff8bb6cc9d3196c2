using TorchSharp;
using Vigil.Weights;

namespace Vigil.Tests.Weights;

public class SafeTensorsTests
{
    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    private static byte[] Halves(params ushort[] bits) => bits.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void HandWrittenFileLoadsExactValuesIntoTinyModule()
    {
        var path = StateFiles.TempPath(".safetensors");
        try
        {
            SafeTensorsWriter.Write(path,
            [
                ("0.weight", "F32", [3, 2, 1, 1], Floats(1, 4, 2, 5, 3, 6)),
                ("0.bias", "F16", [3], Halves(0x3800, 0xBD00, 0x4200)),      // 0.5, -1.25, 3
                ("1.weight", "BF16", [3], Halves(0x3FC0, 0xC000, 0x3E80)),   // 1.5, -2, 0.25
                ("1.bias", "F32", [3], Floats(10, 20, 30)),
                ("1.running_mean", "F32", [3], Floats(-1, -2, -3)),
                ("1.running_var", "F32", [3], Floats(1, 2, 4)),
                ("1.num_batches_tracked", "I64", [], BitConverter.GetBytes(7L)),
            ]);
            using var m = PyTorchCheckpointTests.TinyModule();
            using (var state = WeightFile.Read(path)) StateDictLoader.Load(m, state);
            PyTorchCheckpointTests.AssertTinyValues(m);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OffsetsThatDoNotMatchTheShapeAreRejectedWithTheTensorName()
    {
        var path = StateFiles.TempPath(".safetensors");
        try
        {
            SafeTensorsWriter.Write(path, [("w", "F32", [4], Floats(1, 2, 3))]);
            var e = Assert.Throws<VigilInputException>(() => WeightFile.Read(path));
            Assert.Contains("'w'", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
