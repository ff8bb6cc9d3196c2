using System.Diagnostics;
using Vigil.Results;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// Gradient training as a user meets it: a bench killed mid-training resumes from its checkpoint when run again; a
/// train stopped with Ctrl+C says how to continue and `--resume` does; the loss curves reach the store and the report.
/// </summary>
public class TrainingCommandTests : IClassFixture<TrainingCommandTests.Dataset>
{
    private readonly TinySynthetic _data;

    public TrainingCommandTests(Dataset data) => _data = data.Data;

    public sealed class Dataset : IDisposable
    {
        public TinySynthetic Data { get; } = new(trainCount: 24, testGoodCount: 3, perDefectCount: 1);
        public void Dispose() => Data.Dispose();
    }

    private static readonly Dictionary<string, string> NoEnvironment = [];

    /// <summary>Waits until a file matching <paramref name="pattern"/> exists under <paramref name="folder"/> (a checkpoint written at an epoch's end).</summary>
    private static void WaitFor(string folder, string pattern, Process process)
    {
        var clock = Stopwatch.StartNew();
        while (Directory.GetFiles(folder, pattern, SearchOption.AllDirectories).Length == 0)
        {
            if (process.HasExited) Assert.Fail($"vigil ended (exit {process.ExitCode}) before writing {pattern}: {process.StandardError.ReadToEnd()}");
            if (clock.Elapsed > TimeSpan.FromMinutes(3)) Assert.Fail($"no {pattern} after 3 minutes");
            Thread.Sleep(100);
        }
    }

    [Fact]
    public void AKilledBenchResumesTheTrainingFromItsCheckpointAndTheReportDrawsTheLosses()
    {
        var output = _data.Scratch("killed-bench");
        string[] args = ["bench", "-d", $"synthetic:{_data.Root}", "-m", "stpm:epochs=8,batch=8", "-o", output];
        using (var process = VigilProcess.Start(output, NoEnvironment, args))
        {
            _ = process.StandardOutput.ReadToEndAsync();
            WaitFor(output, "*.ckpt", process);
            process.Kill(); // SIGKILL: no chance to save anything more
            process.WaitForExit();
        }
        var checkpoint = Assert.Single(Directory.GetFiles(Path.Combine(output, "checkpoints"), "*.ckpt"));

        var again = VigilProcess.Run(output, args);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.False(File.Exists(checkpoint), "the finished training left its checkpoint");
        using var store = ResultsStore.Open(null, output);
        var cell = Assert.Single(store.LatestCells()).Result;
        Assert.Contains(cell.Notes, n => n.StartsWith("Resumed from the checkpoint at epoch ", StringComparison.Ordinal));
        var training = Assert.IsType<Records.TrainingLog>(cell.Training);
        Assert.Equal(8, training.Epochs.Count);
        Assert.Equal(Enumerable.Range(1, 8), training.Epochs.Select(e => e.Epoch));

        var report = File.ReadAllText(Path.Combine(output, "report", "report.html"));
        Assert.Contains("loss curves", report);
        Assert.True(File.Exists(Path.Combine(output, "report", "plots", "t1-losses.png")));
    }

    [Fact]
    public async Task CtrlCDuringTrainSavesACheckpointAndResumeContinuesIt()
    {
        var work = _data.Scratch("train-resume");
        var model = Path.Combine(work, "stpm.vgl");
        string[] args = ["train", "-d", $"synthetic:{_data.Root}", "-m", "stpm:epochs=10,batch=8", "-o", model];
        using (var process = VigilProcess.Start(work, NoEnvironment, args))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            WaitFor(work, "*.ckpt", process);
            Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "train did not stop after Ctrl+C");
            Assert.Equal(130, process.ExitCode);
            Assert.Contains("--resume", await stderr);
        }
        Assert.False(File.Exists(model));
        Assert.True(File.Exists(model + ".ckpt"));

        var refused = VigilProcess.Run(work, args);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("continue it with --resume", refused.Stderr);

        var resumed = VigilProcess.Run(work, [.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("Resumed from the checkpoint at epoch", resumed.Stdout);
        Assert.True(File.Exists(model));
        Assert.False(File.Exists(model + ".ckpt"));
    }
}
