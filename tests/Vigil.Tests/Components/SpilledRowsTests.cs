using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Tests.Components;

/// <summary>Rows spilled to a temporary file come back exactly, by index, against the rows kept in memory.</summary>
public class SpilledRowsTests
{
    [Theory]
    [InlineData(7, new[] { 5, 1, 30, 13 })]   // small rows, uneven batches
    [InlineData(1 << 18, new[] { 40, 1, 29 })] // 1 MiB rows: a gather spans several chunks of the result
    public void GathersTheRowsInTheOrderAskedAsIndexSelectOnAllRows(int dimension, int[] batches)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(3);
        var parts = batches.Select(n => randn(new long[] { n, dimension }, generator: generator)).ToList();
        var all = cat(parts, 0);
        using var spilled = new SpilledRows(dimension);
        foreach (var part in parts) spilled.Append(part);
        Assert.Equal(all.shape[0], spilled.Count);

        long n = all.shape[0];
        var random = new Random(5);
        var indices = Enumerable.Range(0, 3 * (int)n).Select(_ => (long)random.Next((int)n)).Append(n - 1).Prepend(0).ToArray(); // repeats, any order
        var gathered = spilled.Gather(indices);
        Assert.Equal(new[] { indices.Length, (long)dimension }, gathered.shape);
        Assert.True(all.index_select(0, tensor(indices)).eq(gathered).all().item<bool>());
    }

    [Fact]
    public void RowsNotWrittenAreRefusedAndTheFileLeavesNothingBehind()
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("vigil-spill-test-").FullName;
        try
        {
            var spilled = new SpilledRows(4, folder);
            spilled.Append(ones(3, 4));
            // On Unix the file has no name while in use, so a killed process cannot leave it behind.
            Assert.Equal(OperatingSystem.IsWindows(), File.Exists(spilled.Path));
            Assert.Throws<ArgumentOutOfRangeException>(() => spilled.Gather([3]));
            Assert.Throws<ArgumentException>(() => spilled.Append(ones(2, 5)));
            spilled.Dispose();
            Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AnUnwritableFolderIsAnInputErrorNamingTheFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"vigil-missing-{Guid.NewGuid():N}", "below");
        var error = Assert.Throws<VigilInputException>(() => new SpilledRows(4, missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("TMPDIR", error.Message);
    }
}
