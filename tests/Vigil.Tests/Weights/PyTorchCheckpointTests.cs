using TorchSharp;
using Vigil.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Vigil.Tests.Weights;

/// <summary>
/// Hand-built torch.save files (see <see cref="TorchSaveWriter"/> for the byte layout) with hand-encoded storages:
/// a strided float32 view, a float16 view with an offset, bfloat16, two tensors sharing one storage, and int64.
/// </summary>
public class PyTorchCheckpointTests
{
    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    private static byte[] Halves(params ushort[] bits) => bits.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>State of Sequential(Conv2d(2, 3, 1), BatchNorm2d(3)) with values chosen to be exact in every dtype.</summary>
    public static List<TensorEntry> TinyEntries() =>
    [
        // storage [1..6] read with strides (1, 3): weight[i][j] = storage[i + 3j] -> [[1,4],[2,5],[3,6]]
        new("0.weight", "FloatStorage", "0", Floats(1, 2, 3, 4, 5, 6), 4, 0, [3, 2, 1, 1], [1, 3, 1, 1]),
        // float16 9, 0.5, -1.25, 3, 7 (IEEE half bit patterns) from offset 1 -> [0.5, -1.25, 3]
        new("0.bias", "HalfStorage", "1", Halves(0x4880, 0x3800, 0xBD00, 0x4200, 0x4700), 2, 1, [3], [1]),
        // bfloat16 = top 16 bits of float32: 1.5, -2, 0.25
        new("1.weight", "BFloat16Storage", "2", Halves(0x3FC0, 0xC000, 0x3E80), 2, 0, [3], [1]),
        // bias and running_mean are two views of one storage
        new("1.bias", "FloatStorage", "3", Floats(10, 20, 30, -1, -2, -3), 4, 0, [3], [1]),
        new("1.running_mean", "FloatStorage", "3", Floats(10, 20, 30, -1, -2, -3), 4, 3, [3], [1]),
        new("1.running_var", "FloatStorage", "4", Floats(1, 2, 4), 4, 0, [3], [1]),
        new("1.num_batches_tracked", "LongStorage", "5", BitConverter.GetBytes(7L), 8, 0, [], []),
    ];

    public static Sequential TinyModule() => Sequential(Conv2d(2, 3, 1), BatchNorm2d(3));

    internal static void AssertTinyValues(Sequential m)
    {
        var s = m.state_dict();
        Assert.Equal([1f, 4, 2, 5, 3, 6], s["0.weight"].data<float>().ToArray());
        Assert.Equal([0.5f, -1.25f, 3], s["0.bias"].data<float>().ToArray());
        Assert.Equal([1.5f, -2, 0.25f], s["1.weight"].data<float>().ToArray());
        Assert.Equal([10f, 20, 30], s["1.bias"].data<float>().ToArray());
        Assert.Equal([-1f, -2, -3], s["1.running_mean"].data<float>().ToArray());
        Assert.Equal([1f, 2, 4], s["1.running_var"].data<float>().ToArray());
        Assert.Equal(7L, s["1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void ZipCheckpointLoadsExactValuesIntoTinyModule()
    {
        var path = StateFiles.TempPath(".pth");
        try
        {
            TorchSaveWriter.WriteZip(path, TinyEntries(), archiveName: "tiny");
            using var m = TinyModule();
            using (var state = WeightFile.Read(path))
            {
                Assert.Equal(TinyEntries().Select(e => e.Name), state.Keys);
                Assert.Equal(torch.ScalarType.Float16, state["0.bias"].dtype);
                Assert.Equal(torch.ScalarType.BFloat16, state["1.weight"].dtype);
                StateDictLoader.Load(m, state);
            }
            AssertTinyValues(m);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void LegacyCheckpointLoadsExactValues()
    {
        var path = StateFiles.TempPath(".pth");
        try
        {
            TorchSaveWriter.WriteLegacy(path, TinyEntries());
            using var m = TinyModule();
            using (var state = WeightFile.Read(path)) StateDictLoader.Load(m, state);
            AssertTinyValues(m);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnreadableLegacyCheckpointSaysHowToReSaveIt()
    {
        var path = StateFiles.TempPath(".pth");
        try
        {
            TorchSaveWriter.WriteLegacy(path, TinyEntries());
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^20]); // storages cut short
            var e = Assert.Throws<VigilInputException>(() => WeightFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("torch.save(torch.load(f), f2)", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("state_dict")]
    [InlineData("model")]
    public void WrappedCheckpointAndModulePrefixAreUnwrapped(string wrapper)
    {
        var path = StateFiles.TempPath(".pt");
        try
        {
            var prefixed = TinyEntries().Select(e => e with { Name = "module." + e.Name }).ToList();
            TorchSaveWriter.WriteZip(path, prefixed, wrapperKey: wrapper);
            using var m = TinyModule();
            using (var state = WeightFile.Read(path)) StateDictLoader.Load(m, state);
            AssertTinyValues(m);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void WholePickledModelIsRejectedWithHowToSaveTheStateDict()
    {
        // torch.save(model): the module object itself, GLOBAL "torchvision.models.resnet\nResNet", NEWOBJ, BUILD.
        byte[] pickle = [0x80, 2, (byte)'c', .. "torchvision.models.resnet\nResNet\n"u8, (byte)')', 0x81, (byte)'}', (byte)'b', (byte)'.'];
        var path = StateFiles.TempPath(".pth");
        try
        {
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            using (var s = zip.CreateEntry("model/data.pkl").Open()) s.Write(pickle);
            var e = Assert.Throws<VigilInputException>(() => WeightFile.Read(path));
            Assert.Contains("torchvision.models.resnet.ResNet object", e.Message);
            Assert.Contains("torch.save(model.state_dict(), path)", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ZipWithoutDataPickleIsAClearInputError()
    {
        var path = StateFiles.TempPath(".pth");
        try
        {
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
                zip.CreateEntry("something/else.txt");
            var e = Assert.Throws<VigilInputException>(() => WeightFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("data.pkl", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnknownFileFormatNamesTheFileAndTheAccepatedFormats()
    {
        var path = StateFiles.TempPath(".bin");
        try
        {
            File.WriteAllText(path, "not weights at all");
            var e = Assert.Throws<VigilInputException>(() => WeightFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("safetensors", e.Message);
        }
        finally { File.Delete(path); }
    }
}
