using System.Text.RegularExpressions;
using OpenCvSharp;
using Vigil.Results;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>
/// What the commands tell their user: progress in logs, what a first use is doing, tiny images, how to get past a
/// corrupt file, typos that leave nothing behind, paths with commas, and counts in the right number.
/// </summary>
[Collection(TinyRunCollection.Name)]
public partial class UserMessagesTests(TinyRun run)
{
    [Fact]
    public void ARedirectedBenchPrintsProgressLinesWithDoneAndTotal()
    {
        // "  checking synthetic/wood: 16/16 (100 %), 0 s" — the lines a log gets instead of progress bars.
        var lines = run.Bench.Stdout.ReplaceLineEndings("\n").Split('\n').Select(l => ProgressLine().Match(l)).Where(m => m.Success).ToList();
        Assert.True(lines.Count >= 2, run.Bench.ToString());
        Assert.Contains(lines, m => m.Groups["title"].Value.StartsWith("checking synthetic/wood", StringComparison.Ordinal)
                                    && m.Groups["done"].Value == m.Groups["total"].Value && m.Groups["percent"].Value == "100");
        Assert.All(lines, m => Assert.InRange(int.Parse(m.Groups["done"].Value), 0, int.Parse(m.Groups["total"].Value)));
    }

    [GeneratedRegex(@"^  (?<title>.+): (?<done>\d+)/(?<total>\d+) \((?<percent>\d+) %\)")]
    private static partial Regex ProgressLine();

    [Fact]
    public void TheReportOfOneCellSaysOneCell()
    {
        var page = File.ReadAllText(Path.Combine(run.BenchFolder, "report", "report.html"));
        Assert.Contains("<p>1 cell; models", page);
    }

    [Fact]
    public void TyposInTheDataOrCategoryLeaveNoResultsStore()
    {
        var work = run.Data.Scratch("typos");
        var runs = new[]
        {
            ("bench-data", new[] { "bench", "-d", "synthetc", "-m", "padim" }),
            ("bench-category", ["bench", "-d", $"synthetic:{run.Data.Root}", "-c", "wod", "-m", "padim"]),
            ("test-data", ["test", "-f", run.Model, "-d", "mvtek"]),
            ("test-category", ["test", "-f", run.Model, "-c", "wod"]),
        };
        foreach (var (name, args) in runs)
        {
            var output = Path.Combine(work, name);
            var outcome = VigilProcess.Run(work, [.. args, "-o", output]);
            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            Assert.Contains("Unknown", outcome.Stderr);
            Assert.False(File.Exists(Path.Combine(output, ResultsStore.DefaultFileName)), $"{name}: a results store was created for a typo");
        }
    }

    [Theory]
    [InlineData("line 3, camera 2")] // the text after the comma starts no dataset spec
    [InlineData("line 3,mtd")]       // it does ("mtd"), but the whole value names an existing folder
    public void ADatasetFolderWithACommaInItsPathStaysOneDataset(string name)
    {
        var folder = Path.Combine(run.Data.Scratch("comma"), name);
        Directory.CreateDirectory(Path.Combine(folder, "normal"));
        foreach (var image in Directory.GetFiles(Path.Combine(run.Data.Root, TinySynthetic.Category, "train", "good")).Take(3))
            File.Copy(image, Path.Combine(folder, "normal", Path.GetFileName(image)));
        // An unknown category stops the bench right after the datasets opened, naming the dataset it opened.
        var bench = VigilProcess.Run(run.Data.Scratch("comma-out"), "bench", "-d", $"folder:{folder}", "-m", "padim", "-c", "nosuch");
        Assert.True(bench.ExitCode == 2, bench.ToString());
        Assert.Contains($"Unknown category 'nosuch' in dataset 'folder'. Known: {name}.", bench.Stderr.ReplaceLineEndings(" "));
    }

    [Fact]
    public void DatasetsShowSaysItIsGeneratingTheSyntheticDataOnFirstUse()
    {
        var root = Path.Combine(run.Data.Scratch("first-use"), "synthetic");
        var show = VigilProcess.Run(run.Data.Scratch("first-use"), "datasets", "show", $"synthetic:{root}");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains($"generating the synthetic dataset in {root} (first use)", show.Stdout.ReplaceLineEndings(""));
    }

    [Fact]
    public void TinyImagesAreWarnedAboutByTheDatasetCheckTrainBenchAndPredict()
    {
        var root = run.CopyOfData("with-tiny");
        var tiny = Path.Combine(root, TinySynthetic.Category, "train", "good", "tiny.png");
        using (var pixel = new Mat(1, 1, MatType.CV_8UC3, Scalar.All(120))) Cv2.ImWrite(tiny, pixel);
        var work = run.Data.Scratch("tiny-work");

        var check = VigilProcess.Run(work, "datasets", "show", $"mvtec:{root}", "--check");
        Assert.True(check.ExitCode == 2, check.ToString());
        var checkText = check.Stdout.ReplaceLineEndings("");
        Assert.Contains($"too small: Image '{tiny}' is 1x1 pixels", checkText);
        Assert.Contains("1 image below 32 pixels on a side", checkText);

        var train = VigilProcess.Run(work, "train", "-d", $"mvtec:{root}", "-m", "padim:dims=20", "-o", Path.Combine(work, "m.vgl"));
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains($"warning: Image '{tiny}' is 1x1 pixels", train.Stdout.ReplaceLineEndings(""));
        var trainText = Regex.Replace(train.Stdout, @"[\s│]+", " ");
        Assert.Contains("normal validation images", trainText);
        // 11 normal training images (10 and the tiny one) at the default ratio 0.1 would give round(1.1) = 1 validation image.
        Assert.Contains("threshold fitted on 5 validation normal images (the minimum; --validation-ratio 0.1 alone would hold back 1): " +
                        "its false-positive rate on them moves in steps of 20 %.", trainText);
        Assert.DoesNotContain("anomalouss", train.Stdout);

        var bench = VigilProcess.Run(work, "bench", "-d", $"mvtec:{root}", "-m", "padim:dims=20", "-o", Path.Combine(work, "bench"));
        Assert.True(bench.ExitCode == 0, bench.ToString());
        using (var store = ResultsStore.Open(null, Path.Combine(work, "bench")))
            Assert.Contains($"Image '{tiny}' is 1x1 pixels, below 32 on a side: a model enlarges it many times, so its score and map say little.",
                Assert.Single(store.LatestCells()).Result.Notes);

        var output = Path.Combine(work, "predictions");
        var predict = VigilProcess.Run(work, "predict", "-f", run.Model, tiny, "-o", output);
        Assert.True(predict.ExitCode == 0, predict.ToString());
        Assert.StartsWith($"warning: Image '{tiny}' is 1x1 pixels", predict.Stderr);
        Assert.Contains("1 image scored", predict.Stdout);
        var row = File.ReadAllLines(Path.Combine(output, "predictions.csv"))[1];
        Assert.EndsWith(",\"Image '" + tiny + "' is 1x1 pixels, below 32 on a side: a model enlarges it many times, so its score and map say little.\"", row);
    }

    [Fact]
    public void ACorruptImageStopsABenchSayingHowToSkipItButPredictDoesNotOfferTheOption()
    {
        var root = run.CopyOfData("with-corrupt");
        var corrupt = Path.Combine(root, TinySynthetic.Category, "train", "good", "corrupt.png");
        File.WriteAllText(corrupt, "not an image");
        var work = run.Data.Scratch("corrupt-work");

        var bench = VigilProcess.Run(work, "bench", "-d", $"mvtec:{root}", "-m", "padim:dims=20", "-o", Path.Combine(work, "bench"));
        Assert.True(bench.ExitCode == 2, bench.ToString());
        Assert.Contains(corrupt, bench.Stderr);
        Assert.Contains("add --skip-corrupt", bench.Stderr);

        var predict = VigilProcess.Run(work, "predict", "-f", run.Model, corrupt, "-o", Path.Combine(work, "predictions"));
        Assert.Equal(1, predict.ExitCode);
        Assert.Contains(corrupt, predict.Stderr);
        Assert.DoesNotContain("--skip-corrupt", predict.Stderr);
        Assert.Contains("0 images scored", predict.Stdout);
    }
}
