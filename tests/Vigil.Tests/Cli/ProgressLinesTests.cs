using Vigil.Cli.Commands;

namespace Vigil.Tests.Cli;

/// <summary>
/// Progress reports come from parallel loops (the synthetic dataset writes its images in a Parallel.ForEach); the log
/// sink used when output is redirected must take them from many threads at once. Before the fix its phase table was a
/// plain Dictionary written concurrently, and `vigil train` on a first run died with "a concurrent update was performed".
/// </summary>
public class ProgressLinesTests
{
    [Fact]
    public void ConcurrentReportsOfManyPhasesDoNotCorruptTheLogSink()
    {
        var sink = new ConsoleDisplay.LogLines("work");
        // Distinct phases (each one a new table entry), never finished, so no line is written and only the table is exercised.
        var failure = Record.Exception(() => Parallel.For(0, 2_000_000, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => sink.Report(new WorkProgress($"phase {i}", 0, 1))));
        Assert.Null(failure);
        // A lost insert is the quieter form of the same race: every phase must be in the table.
        var phases = (System.Collections.ICollection)typeof(ConsoleDisplay.LogLines)
            .GetField("_phases", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(sink)!;
        Assert.Equal(2_000_000, phases.Count);
    }
}
