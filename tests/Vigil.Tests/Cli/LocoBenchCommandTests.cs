using Vigil.Metrics;
using Vigil.Reporting;
using Vigil.Results;
using Vigil.Tests.Data;
using Xunit.Abstractions;

namespace Vigil.Tests.Cli;

/// <summary>`vigil bench -d loco:&lt;root&gt;` as a user runs it: the official LOCO numbers in the table, the store and the report.</summary>
public class LocoBenchCommandTests(ITestOutputHelper output)
{
    [Fact]
    public void BenchOnLocoReportsSproPerLimitForEachKindOfAnomaly()
    {
        SharedData.RequireDirectory("weights");
        using var loco = new TinyLoco();
        var folder = loco.Scratch("out");
        var run = VigilProcess.Run(folder, "bench", "-d", $"loco:{loco.Root}", "-m", "padim:dims=20", "-b", "mobilenetv2_int8_onnx", "-o", folder);
        Assert.True(run.ExitCode == 0, run.ToString());
        output.WriteLine(run.Stdout);

        Assert.Contains("MVTec LOCO: padim:dims=20 on loco (unsupervised)", run.Stdout);
        foreach (double limit in SPro.LocoFprLimits) Assert.Contains($"sPRO@{limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}", run.Stdout);
        foreach (var kind in new[] { "logical", "structural", "mean" }) Assert.Contains($"│ {kind}", run.Stdout);

        using var store = ResultsStore.Open(null, folder);
        var cell = Assert.Single(store.LatestCells()).Result;
        var result = Assert.IsType<LocoEvaluationResult>(cell.Loco);
        Assert.Equal(loco.Load().Test.Count, result.GoodImages + result.LogicalImages + result.StructuralImages);
        Assert.All(SPro.LocoFprLimits, l => Assert.InRange(result.Mean.AucSpro[l], 0, 1));

        // The report's LOCO table holds the stored numbers (its mean row: the official mean's sPRO at 0.05).
        var html = File.ReadAllText(Path.Combine(folder, "report", HtmlReport.FileName));
        Assert.Contains("<table class=\"loco\">", html);
        Assert.Contains($"<td>{result.Mean.AucSpro[0.05].ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}</td>", html);
    }
}
