using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// Unknown names on the command line end in exit code 2 and one "error:" message that lists the valid choices,
/// never a stack trace.
/// </summary>
public class InputErrorTests : IClassFixture<InputErrorTests.Dataset>
{
    private readonly Dataset _data;

    public InputErrorTests(Dataset data) => _data = data;

    /// <summary>One tiny dataset shared by the tests of this class (generated once).</summary>
    public sealed class Dataset : IDisposable
    {
        public TinySynthetic Data { get; } = new(trainCount: 2, testGoodCount: 1, perDefectCount: 1);
        public void Dispose() => Data.Dispose();
    }

    [Fact]
    public void UnknownDatasetListsTheKnownOnes()
    {
        var run = VigilProcess.Run(_data.Data.Scratch("unknown-dataset"), "datasets", "show", "nosuch");
        AssertOneInputError(run, "Unknown dataset 'nosuch'", DatasetCatalog.Known.Select(e => e.Name));
    }

    [Fact]
    public void UnknownCategoryListsTheKnownOnes()
    {
        var run = VigilProcess.Run(_data.Data.Scratch("unknown-category"), "datasets", "show", $"mvtec:{_data.Data.Root}", "-c", "nosuch");
        AssertOneInputError(run, "Unknown category 'nosuch'", [TinySynthetic.Category]);
    }

    [Fact]
    public void UnknownModelListsTheKnownOnes()
    {
        var run = VigilProcess.Run(_data.Data.Scratch("unknown-model"), "bench", "-m", "nosuch", "-d", $"mvtec:{_data.Data.Root}");
        AssertOneInputError(run, "Unknown model 'nosuch'", DetectorRegistry.BuiltIn.Select(m => m.Info.Name));
    }

    [Fact]
    public void UnknownBackboneListsTheKnownOnes()
    {
        var output = _data.Data.Scratch("unknown-backbone");
        var run = VigilProcess.Run(output, "bench", "-b", "nosuch", "-d", $"mvtec:{_data.Data.Root}", "-o", output);
        AssertOneInputError(run, "Unknown backbone 'nosuch'", BackboneCatalog.Names);
        Assert.False(Directory.Exists(Path.Combine(output, "cells")), "no cell may be stored for a run that failed");
    }

    private static void AssertOneInputError(VigilProcess.Outcome run, string problem, IEnumerable<string> choices)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        // The console wraps long lines at its width; the message is judged with the wrapping undone.
        var text = run.All.ReplaceLineEndings(" ");
        Assert.Equal(1, VigilProcess.CountOf(run.All, "error:"));
        Assert.Contains(problem, text);
        foreach (var choice in choices) Assert.Contains(choice, text);
        Assert.DoesNotContain("Exception", run.All);
        Assert.DoesNotContain("   at ", run.All);
    }
}
