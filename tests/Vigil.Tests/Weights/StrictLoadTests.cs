using TorchSharp;
using Vigil.Weights;

namespace Vigil.Tests.Weights;

public class StrictLoadTests
{
    [Fact]
    public void MissingUnexpectedAndMisshapenKeysAreListedTogetherAndNothingIsCopied()
    {
        var entries = PyTorchCheckpointTests.TinyEntries()
            .Where(e => e.Name != "0.bias")
            .Select(e => e.Name == "1.running_var" ? e with { Size = [2], Stride = [1] } : e)
            .Append(new TensorEntry("2.weight", "FloatStorage", "9", new byte[8], 4, 0, [2], [1]))
            .ToList();
        var path = StateFiles.TempPath(".pth");
        try
        {
            TorchSaveWriter.WriteZip(path, entries);
            using var m = PyTorchCheckpointTests.TinyModule();
            using var before = m.state_dict()["0.weight"].clone();
            using var state = WeightFile.Read(path);
            var e = Assert.Throws<VigilInputException>(() => StateDictLoader.Load(m, state));
            Assert.Contains(path, e.Message);
            Assert.Contains("1 missing keys (in the model, not in the file): 0.bias", e.Message);
            Assert.Contains("1 unexpected keys (in the file, not in the model): 2.weight", e.Message);
            Assert.Contains("1.running_var: file [2], model [3]", e.Message);
            Assert.True(StateFiles.Identical(before, m.state_dict()["0.weight"]), "a failed strict load must not change the model");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AbsentNumBatchesTrackedIsToleratedAsByPyTorch()
    {
        var path = StateFiles.TempPath(".pth");
        try
        {
            TorchSaveWriter.WriteZip(path, PyTorchCheckpointTests.TinyEntries().Where(e => !e.Name.EndsWith("num_batches_tracked")).ToList());
            using var m = PyTorchCheckpointTests.TinyModule();
            using var state = WeightFile.Read(path);
            StateDictLoader.Load(m, state);
            Assert.Equal([-1f, -2, -3], m.state_dict()["1.running_mean"].data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }
}
