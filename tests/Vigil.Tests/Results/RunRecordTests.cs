using System.Xml.Linq;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>A run records the Vigil version the build declares, a git commit, and this machine; its configuration must be JSON.</summary>
public class RunRecordTests
{
    [Fact]
    public void StartingNowRecordsTheBuildAndTheMachine()
    {
        var run = RunRecord.StartingNow("vigil bench", "{}", "resnet18", null);

        Assert.Equal(DeclaredVersion(), run.VigilVersion);
        if (run.GitCommit != null) Assert.Matches("^[0-9a-f]{40}$", run.GitCommit); // null only when built outside git
        Assert.Equal((Environment.MachineName, Environment.ProcessorCount), (run.Environment.MachineName, run.Environment.Cores));
        Assert.InRange(run.Environment.MemoryBytes, 1L << 28, 1L << 50);
        Assert.StartsWith(".NET 10", run.Environment.DotnetVersion);
        Assert.InRange(run.Started, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.Equal(RunStatus.Running, run.Status);
    }

    [Fact]
    public void AConfigurationThatIsNotJsonIsRefused()
    {
        var output = Directory.CreateTempSubdirectory("vigil-results-").FullName;
        try
        {
            using var store = ResultsStore.Open(null, output);
            var error = Assert.Throws<ArgumentException>(() => store.BeginRun(ResultSamples.Run() with { Configuration = "ratio=0.1" }));
            Assert.Contains("JSON", error.Message);
            Assert.Empty(store.Runs());
        }
        finally { Directory.Delete(output, recursive: true); }
    }

    /// <summary>The &lt;Version&gt; in the repository's Directory.Build.props.</summary>
    private static string DeclaredVersion()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
        {
            var props = Path.Combine(folder.FullName, "Directory.Build.props");
            if (File.Exists(props)) return XDocument.Load(props).Descendants("Version").Single().Value;
        }
        throw new InvalidOperationException($"No Directory.Build.props above {AppContext.BaseDirectory}.");
    }
}
