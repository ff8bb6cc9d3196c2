using Vigil.Results;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// A tiny dataset with what the CLI made of it once, shared by the tests of the "tiny run" collection: a trained model
/// file and a finished bench (its redirected output and its results store).
/// </summary>
public sealed class TinyRun : IDisposable
{
    public TinySynthetic Data { get; } = new(trainCount: 10, testGoodCount: 2, perDefectCount: 1);

    public string Model { get; }

    /// <summary>The bench's output folder (results.sqlite, report/).</summary>
    public string BenchFolder { get; }

    public VigilProcess.Outcome Bench { get; }

    public string Store => Path.Combine(BenchFolder, ResultsStore.DefaultFileName);

    public TinyRun()
    {
        var work = Data.Scratch("tiny-run");
        Model = Path.Combine(work, "padim.vgl");
        var train = VigilProcess.Run(work, "train", "-d", $"synthetic:{Data.Root}", "-m", "padim:dims=20", "-o", Model);
        if (train.ExitCode != 0) throw new InvalidOperationException($"training the shared model failed:\n{train}");
        BenchFolder = Path.Combine(work, "bench");
        Bench = VigilProcess.Run(work, "bench", "-d", $"synthetic:{Data.Root}", "-m", "padim:dims=20", "-o", BenchFolder);
        if (Bench.ExitCode != 0) throw new InvalidOperationException($"the shared bench failed:\n{Bench}");
    }

    /// <summary>A copy of the dataset's root to change without touching the shared one.</summary>
    public string CopyOfData(string name)
    {
        var copy = Data.Scratch(name);
        foreach (var file in Directory.GetFiles(Data.Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Data.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    public void Dispose() => Data.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TinyRunCollection : ICollectionFixture<TinyRun>
{
    public const string Name = "tiny run";
}
