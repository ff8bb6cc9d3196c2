using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// A disk that fills up or a folder that cannot be written, found only when the outputs are written: one clear
/// message naming the file, no stack trace, and no half-written file or half report left behind.
/// </summary>
[Collection(TinyRunCollection.Name)]
public class FullDiskTests(TinyRun run)
{
    /// <summary>64 KiB: room for the write checks and a small file, not for a model, a map of 64×64 images or a report.</summary>
    private const long Small = 64 * 1024;

    [TmpfsFact]
    public void TrainingOntoAFullDiskSaysSoAndLeavesNoModelFile()
    {
        using var disk = new Tmpfs(Small);
        var train = VigilProcess.Run(run.Data.Scratch("full-train"), "train", "-d", $"synthetic:{run.Data.Root}", "-m", "padim:dims=20", "-o", disk.Path("m.vgl"));
        AssertOneError(train, $"error: Could not write the model file '{disk.Path("m.vgl")}'", "No space left on device");
        Assert.Empty(Directory.GetFileSystemEntries(disk.Root));
    }

    [TmpfsFact]
    public void PredictingOntoAFullDiskStopsWithOneMessageAndWritesNoPredictionsFile()
    {
        using var disk = new Tmpfs(Small);
        var images = Path.Combine(run.Data.Root, TinySynthetic.Category, "train", "good"); // 10 images, two maps of several KiB each
        var predict = VigilProcess.Run(run.Data.Scratch("full-predict"), "predict", "-f", run.Model, images, "-o", disk.Path("out"));
        AssertOneError(predict, "error: Could not write", "No space left on device");
        Assert.False(File.Exists(disk.Path("out/predictions.csv")));
        Assert.Empty(Directory.GetFiles(disk.Root, "*.partial", SearchOption.AllDirectories));
    }

    [TmpfsFact]
    public void AReportOntoAFullOrReadOnlyDiskLeavesThePreviousReportAsItWas()
    {
        using (var disk = new Tmpfs(Small))
        {
            Directory.CreateDirectory(disk.Path("report"));
            File.WriteAllText(disk.Path("report/report.html"), "the previous report");
            var report = VigilProcess.Run(run.Data.Scratch("full-report"), "report", "-o", disk.Root, "--results", run.Store);
            AssertOneError(report, $"error: Could not write the report to '{disk.Path("report")}'", "No space left on device");
            Assert.Equal("the previous report", File.ReadAllText(disk.Path("report/report.html")));
            Assert.Equal([disk.Path("report/report.html")], Directory.GetFileSystemEntries(disk.Path("report"))); // no plots, overlays or staging left
        }
        using (var readOnly = new Tmpfs(Small, readOnly: true))
        {
            var report = VigilProcess.Run(run.Data.Scratch("read-only-report"), "report", "-o", readOnly.Root, "--results", run.Store);
            AssertOneError(report, "error: Could not write the report to", "Read-only file system");
        }
    }

    [Fact]
    public void AReportWhereNoFolderCanBeMadeSaysSoInOneMessage()
    {
        var file = Path.Combine(run.Data.Scratch("report-under-a-file"), "a-file");
        File.WriteAllText(file, "");
        var report = VigilProcess.Run(run.Data.Scratch("report-under-a-file"), "report", "-o", file, "--results", run.Store);
        AssertOneError(report, $"error: Could not write the report to '{Path.Combine(file, "report")}'", "choose a writable folder");
    }

    private static void AssertOneError(VigilProcess.Outcome outcome, string start, string cause)
    {
        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        var errors = outcome.Stderr.Trim().ReplaceLineEndings("\n").Split('\n');
        var error = Assert.Single(errors, e => e.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith(start, error);
        Assert.Contains(cause, error);
        Assert.DoesNotContain("   at ", outcome.All); // no stack trace
        Assert.DoesNotContain("Exception", outcome.All);
    }
}
