using System.Text.RegularExpressions;

namespace Vigil.Tests.Cli;

/// <summary>
/// A `vigil test` run in the report is told apart from a benchmark cell: it names the model file, its threshold and
/// how its decisions did (issue 12, friction 5).
/// </summary>
[Collection(TinyRunCollection.Name)]
public partial class TestedModelReportTests(TinyRun run)
{
    [Fact]
    public void TheReportShowsTheTestedModelFileAndTheConfusionCountsOfItsDecisions()
    {
        var work = run.Data.Scratch("tested-report");
        var test = VigilProcess.Run(work, "test", "-f", run.Model, "-o", work);
        Assert.True(test.ExitCode == 0, test.ToString());
        var report = VigilProcess.Run(work, "report", "-o", work);
        Assert.True(report.ExitCode == 0, report.ToString());
        var page = File.ReadAllText(Path.Combine(work, "report", "report.html"));

        // The reference: the same model's labels from `vigil predict` on the test images, against their ground truth.
        var samples = run.Data.Load().Test;
        var truth = samples.ToDictionary(s => s.SourcePath, s => s.IsAnomalous);
        var predict = VigilProcess.Run(work, ["predict", "-f", run.Model, .. truth.Keys, "-o", Path.Combine(work, "predictions")]);
        Assert.True(predict.ExitCode == 0, predict.ToString());
        int tp = 0, fn = 0, fp = 0, tn = 0;
        foreach (var line in File.ReadLines(Path.Combine(work, "predictions", "predictions.csv")).Skip(1))
        {
            var fields = line.Split(',');
            (tp, fn, fp, tn) = (truth[fields[0]], bool.Parse(fields[3])) switch
            {
                (true, true) => (tp + 1, fn, fp, tn),
                (true, false) => (tp, fn + 1, fp, tn),
                (false, true) => (tp, fn, fp + 1, tn),
                _ => (tp, fn, fp, tn + 1),
            };
        }
        Assert.Equal(samples.Count, tp + fn + fp + tn);
        Assert.True(tp + fn > 0 && fp + tn > 0);

        var tested = Assert.Single(TestedLine().Matches(page));
        Assert.Equal(Path.GetFullPath(run.Model), tested.Groups["file"].Value);
        Assert.StartsWith("fpr:0.01", tested.Groups["rule"].Value);
        Assert.Equal((tp, fn, fp, tn), (int.Parse(tested.Groups["tp"].Value), int.Parse(tested.Groups["fn"].Value),
            int.Parse(tested.Groups["fp"].Value), int.Parse(tested.Groups["tn"].Value)));
    }

    [GeneratedRegex(@"evaluation of model file (?<file>[^;]+); at the calibrated threshold \((?<rule>[^:]+:[^:]+): [^)]*\): (?<tp>\d+) true positives, (?<fn>\d+) false negatives, (?<fp>\d+) false positives, (?<tn>\d+) true negatives")]
    private static partial Regex TestedLine();
}
