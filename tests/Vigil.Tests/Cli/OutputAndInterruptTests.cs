using System.Diagnostics;
using Vigil.Results;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// Problems a user finds only after the long work today must surface before it: unwritable outputs, an unusable
/// threshold rule, a typo in a command; and stopping a run (Ctrl+C, SIGTERM) ends it as interrupted, keeping its finished cells.
/// </summary>
public class OutputAndInterruptTests : IClassFixture<OutputAndInterruptTests.Dataset>
{
    private readonly TinySynthetic _data;

    public OutputAndInterruptTests(Dataset data) => _data = data.Data;

    public sealed class Dataset : IDisposable
    {
        public TinySynthetic Data { get; } = new(trainCount: 10, testGoodCount: 2, perDefectCount: 1);
        public void Dispose() => Data.Dispose();
    }

    /// <summary>A path under a regular file: no folder can be made there, whoever runs the tests (root ignores permissions).</summary>
    private string Unwritable(string name)
    {
        var file = Path.Combine(_data.Scratch(name), "a-file");
        File.WriteAllText(file, "");
        return Path.Combine(file, "out");
    }

    [Fact]
    public void UnwritableOutputsFailAtOnceWithOneMessageAndNothingBehind()
    {
        var work = _data.Scratch("outputs");
        var clock = Stopwatch.StartNew();
        var bench = VigilProcess.Run(work, "bench", "-d", $"synthetic:{_data.Root}", "-m", "padim", "-o", Unwritable("bench"));
        var train = VigilProcess.Run(work, "train", "-d", $"synthetic:{_data.Root}", "-m", "padim", "-o", Path.Combine(Unwritable("train"), "m.vgl"));
        foreach (var run in new[] { bench, train })
        {
            Assert.Equal(2, run.ExitCode);
            Assert.StartsWith("error: Cannot write", run.Stderr.Trim());
            Assert.Equal(1, VigilProcess.CountOf(run.Stderr.Trim(), "\n") + 1);
            Assert.DoesNotContain("   at ", run.Stderr); // no stack trace
        }
        // Before any fit: a fit of PaDiM on this data alone takes longer than both refusals together.
        Assert.DoesNotContain("fitting", train.Stdout);

        var model = Path.Combine(work, "padim.vgl");
        var trained = VigilProcess.Run(work, "train", "-d", $"synthetic:{_data.Root}", "-m", "padim:dims=20", "-o", model);
        Assert.True(trained.ExitCode == 0, trained.ToString());
        var test = VigilProcess.Run(work, "test", "-f", model, "-o", Unwritable("test"));
        var predict = VigilProcess.Run(work, "predict", "-f", model, Path.Combine(_data.Root, TinySynthetic.Category, "test", "good"), "-o", Unwritable("predict"));
        foreach (var run in new[] { test, predict })
        {
            Assert.Equal(2, run.ExitCode);
            Assert.StartsWith("error: Cannot write", run.Stderr.Trim());
            Assert.DoesNotContain("   at ", run.Stderr);
        }
        Assert.Empty(Directory.GetFiles(work, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public void AnF1ThresholdWithoutAnomaliesAndAnUnreachableStoreFailBeforeTheWork()
    {
        var work = _data.Scratch("early");
        var f1 = VigilProcess.Run(work, "train", "-d", $"synthetic:{_data.Root}", "-m", "padim", "--threshold", "f1", "-o", Path.Combine(work, "m.vgl"));
        Assert.Equal(2, f1.ExitCode);
        Assert.Contains("--synthetic-anomalies", f1.Stderr);
        Assert.DoesNotContain("fitting", f1.Stdout);
        Assert.False(File.Exists(Path.Combine(work, "m.vgl")));

        var model = Path.Combine(work, "ok.vgl");
        Assert.Equal(0, VigilProcess.Run(work, "train", "-d", $"synthetic:{_data.Root}", "-m", "padim:dims=20", "-o", model).ExitCode);
        // Port 9 (discard) on the loopback: nothing listens, the connection is refused at once.
        var unreachable = VigilProcess.Run(work, "test", "-f", model, "--results", "postgres://vigil:secret@127.0.0.1:9/results");
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Contains("cannot be reached", unreachable.Stderr);
        Assert.DoesNotContain("secret", unreachable.Stderr + unreachable.Stdout);
        Assert.DoesNotContain("test: ", unreachable.Stdout); // the evaluation never started
    }

    [Fact]
    public void AnUnknownCommandIsAnErrorEvenWithHelp()
    {
        var run = VigilProcess.Run(_data.Scratch("unknown-command"), "bnech", "--help");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown command 'bnech'", run.Stderr);
        Assert.Contains("bench", run.Stderr);
    }

    [Fact]
    public async Task StoppingABenchEndsItAsInterruptedAndKeepsItsFinishedCells()
    {
        var output = _data.Scratch("interrupted");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "vigil.dll"), "bench", "-d", $"synthetic:{_data.Root}", "-m", "padim:dims=20", "--seeds", string.Join(",", Enumerable.Range(0, 30)), "-o", output })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        // Once the second cell starts the first is saved: then press Ctrl+C (SIGINT).
        var secondCell = new ManualResetEventSlim();
        var stdout = Task.Run(() =>
        {
            var text = new System.Text.StringBuilder();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                text.AppendLine(line);
                if (line.StartsWith("padim:dims=20/synthetic/wood/unsupervised/seed1", StringComparison.Ordinal)) secondCell.Set();
            }
            return text.ToString();
        });
        Assert.True(secondCell.Wait(TimeSpan.FromMinutes(2)), "the second cell never started");
        Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "bench did not stop after Ctrl+C");

        var (written, errors) = (await stdout, await stderr);
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}\n{written}\n{errors}");
        Assert.Contains("interrupted", errors);
        using var results = ResultsStore.Open(null, output);
        var run = Assert.Single(results.Runs());
        Assert.Equal(RunStatus.Interrupted, run.Status);
        int kept = results.Cells(run.Id).Count;
        Assert.InRange(kept, 1, 29);
        // Running the command again continues after the kept cells.
        var again = VigilProcess.Run(output, "bench", "-d", $"synthetic:{_data.Root}", "-m", "padim:dims=20", "--seeds", "0,1", "-o", output);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("finished earlier, kept", again.Stdout);
    }
}
