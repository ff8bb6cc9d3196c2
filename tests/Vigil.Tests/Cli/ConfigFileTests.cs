using System.CommandLine;
using System.Text.Json;
using Vigil.Cli.Commands;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Tests.Data;

namespace Vigil.Tests.Cli;

/// <summary>--config files and --preset: keys become options, the command line wins, and the run records what it resolved to.</summary>
public class ConfigFileTests
{
    private static readonly RootCommand Root = VigilCommand.Create();

    private static ParseResult Parse(params string[] args) => Root.Parse(ConfigFile.Expand(Root, args));

    [Fact]
    public void YamlKeysBecomeOptionsAndTheCommandLineWins()
    {
        using var temp = new TempTree();
        var yaml = temp.Text("run.yaml", """
            models: [patchcore, padim]
            datasets: mtd
            setting:
              - unsupervised
              - noisy:ratio=0.15
            seeds: [1, 2]
            skip-corrupt: true
            train-ratio: 0.7
            out: from-file
            """);
        var parse = Parse("bench", "--config", yaml, "-o", "from-command-line");
        Assert.Empty(parse.Errors);
        using var resolved = JsonDocument.Parse(ConfigFile.Resolved(parse));
        var r = resolved.RootElement;
        Assert.Equal("bench", r.GetProperty("command").GetString());
        Assert.Equal(["patchcore", "padim"], r.GetProperty("models").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["mtd"], r.GetProperty("datasets").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["unsupervised", "noisy:ratio=0.15"], r.GetProperty("setting").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([1, 2], r.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(r.GetProperty("skip-corrupt").GetBoolean());
        Assert.Equal(0.7, r.GetProperty("train-ratio").GetDouble());
        Assert.Equal("from-command-line", r.GetProperty("out").GetString()); // the alias -o counts as --out
        Assert.False(r.GetProperty("wide").GetBoolean()); // defaults are recorded too
    }

    [Fact]
    public void ModelsMayMapToTheirOptions()
    {
        using var temp = new TempTree();
        var yaml = temp.Text("models.yaml", """
            models:
              patchcore: {coreset: 0.01, layers: [layer2, layer3]}
              padim:
            """);
        using var resolved = JsonDocument.Parse(ConfigFile.Resolved(Parse("bench", "--config", yaml)));
        Assert.Equal(["patchcore:coreset=0.01,layers=layer2+layer3", "padim"],
            resolved.RootElement.GetProperty("models").EnumerateArray().Select(e => e.GetString()));
        var bad = temp.Text("bad.yaml", "models:\n  patchcore: 0.01\n");
        Assert.Contains("must map to its options", Assert.Throws<VigilInputException>(() => ConfigFile.Expand(Root, ["bench", "--config", bad])).Message);
    }

    [Fact]
    public void JsonFilesWorkAndFalseLeavesAFlagOut()
    {
        using var temp = new TempTree();
        var json = temp.Text("run.json", """{ "models": ["spade"], "skip-corrupt": false }""");
        using var resolved = JsonDocument.Parse(ConfigFile.Resolved(Parse("bench", "--config", json)));
        Assert.Equal(["spade"], resolved.RootElement.GetProperty("models").EnumerateArray().Select(e => e.GetString()));
        Assert.False(resolved.RootElement.GetProperty("skip-corrupt").GetBoolean());
    }

    [Fact]
    public void PresetReproducesTheImIadTableShapeUnlessOverridden()
    {
        using var resolved = JsonDocument.Parse(ConfigFile.Resolved(Parse("bench", "--preset", "imiad-table13", "-d", "synthetic")));
        var r = resolved.RootElement;
        var models = r.GetProperty("models").EnumerateArray().Select(e => e.GetString()!).ToList();
        // Every built-in model that learns without labels, once (a new model must join the table or say why not).
        var unsupervised = DetectorRegistry.BuiltIn.Where(m => !m.Info.Capabilities.HasFlag(DetectorCapabilities.Supervised)).Select(m => m.Info.Name);
        Assert.Equal(unsupervised.Order(), models.Order());
        Assert.Contains("patchcore", models);
        Assert.DoesNotContain("devnet", models);
        Assert.Equal(["unsupervised", "noisy:ratio=0.15", "fewshot:k=8", "continual"], r.GetProperty("setting").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["synthetic"], r.GetProperty("datasets").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("missing.yaml", "does not exist")]
    [InlineData("list.yaml", "mapping")]
    [InlineData("broken.json", "cannot be read")]
    [InlineData("nested.yaml", "nested mapping")]
    public void BadConfigFilesSayWhatIsWrong(string name, string expected)
    {
        using var temp = new TempTree();
        temp.Text("list.yaml", "- a\n- b\n");
        temp.Text("broken.json", "{ \"models\": ");
        temp.Text("nested.yaml", "datasets:\n  a: b\n");
        var e = Assert.Throws<VigilInputException>(() => ConfigFile.Expand(Root, ["bench", "--config", temp.Path(name)]));
        Assert.Contains(expected, e.Message);
        Assert.Contains("Unknown preset 'nope'", Assert.Throws<VigilInputException>(() => ConfigFile.Expand(Root, ["bench", "--preset", "nope"])).Message);
    }
}
