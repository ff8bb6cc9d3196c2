namespace Vigil.Tests.Cli;

/// <summary>
/// What a user reads first fits the screen (issue 12, frictions 2 and 6): the results table fits 120 columns unless
/// --wide is asked for (results.csv keeps every column), and the help of each command says what its options take.
/// </summary>
[Collection(TinyRunCollection.Name)]
public class ReadableOutputTests(TinyRun run)
{
    /// <summary>The lines of the results table (box drawing) in a command's output.</summary>
    private static List<string> TableLines(string stdout) =>
        stdout.ReplaceLineEndings("\n").Split('\n').Where(l => l.TrimStart().StartsWith('┌') || l.TrimStart().StartsWith('│') || l.TrimStart().StartsWith('└')).ToList();

    [Fact]
    public void TheResultsTableFits120ColumnsAndWideShowsEveryColumn()
    {
        var narrow = TableLines(run.Bench.Stdout);
        Assert.NotEmpty(narrow);
        Assert.All(narrow, l => Assert.True(l.Length <= 120, $"{l.Length} characters: {l}"));
        Assert.Contains(narrow, l => l.Contains("AUROC"));
        Assert.DoesNotContain(narrow, l => l.Contains("p95"));
        Assert.Contains("--wide", run.Bench.Stdout);
        var csvHeader = File.ReadLines(Path.Combine(run.BenchFolder, "results.csv")).First();
        Assert.Contains("latency_p95_ms", csvHeader);
        Assert.Contains("model_file_bytes", csvHeader);

        var work = run.Data.Scratch("wide");
        var wide = VigilProcess.Run(work, "test", "-f", run.Model, "-o", work, "--wide");
        Assert.True(wide.ExitCode == 0, wide.ToString());
        var table = string.Join("\n", TableLines(wide.Stdout));
        foreach (var column in new[] { "p95", "peak", "model" }) Assert.Contains(column, table);
    }

    [Fact]
    public void HelpSaysWhatEachOptionTakesAndIsNotRepeatedAtLength()
    {
        var bench = VigilProcess.Run(run.Data.Scratch("help"), "bench", "--help");
        Assert.Equal(0, bench.ExitCode);
        var models = bench.Stdout.ReplaceLineEndings("\n").Split('\n').Single(l => l.TrimStart().StartsWith("-m, --models", StringComparison.Ordinal));
        Assert.EndsWith("[default: patchcore,padim]", models.TrimEnd()); // commas, as the option takes them
        var preset = bench.Stdout.ReplaceLineEndings("\n").Split('\n').Single(l => l.TrimStart().StartsWith("--preset", StringComparison.Ordinal));
        Assert.True(preset.Length <= 160, preset); // one line, the details in the docs

        // Only bench takes presets; the other commands do not repeat that text.
        foreach (var command in new[] { "train", "test", "predict", "report" })
        {
            var help = VigilProcess.Run(run.Data.Scratch("help"), command, "--help");
            Assert.Equal(0, help.ExitCode);
            Assert.DoesNotContain("--preset", help.Stdout);
        }
        var report = VigilProcess.Run(run.Data.Scratch("help"), "report", "--help");
        Assert.Contains("every cell in a results store", report.Stdout.ReplaceLineEndings(" "));
    }
}
