using System.Globalization;
using System.Text.Json;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Results;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Cli;

/// <summary>The deployment path as a user walks it: `vigil train` → model file → `vigil test` and `vigil predict`.</summary>
public class TrainTestPredictTests
{
    [Fact]
    public void TrainedModelFileIsTestedOnItsOwnSplitAndLabelsNewImagesByItsThreshold()
    {
        SharedData.RequireDirectory("weights");
        using var data = new TinySynthetic(trainCount: 8, testGoodCount: 3, perDefectCount: 1);
        var work = data.Scratch("work");
        var line = FolderDatasetOf(data, Path.Combine(work, "line"));
        var model = Path.Combine(work, "line.vgl");
        var train = VigilProcess.Run(work, "train", "-m", "padim", "-d", $"folder:{line}", "-o", model,
            "--validation-ratio", "0.25", "--threshold", "fpr:0", "--seed", "3");
        Assert.True(train.ExitCode == 0, train.ToString());

        // The file carries its calibration and where it came from; the validation images are not training images.
        var provenance = ReadManifest(model).GetProperty("provenance");
        var trainImages = provenance.GetProperty("TrainImages").EnumerateArray().Select(e => e.GetString()!).ToList();
        var validationImages = provenance.GetProperty("ValidationImages").EnumerateArray().Select(e => e.GetString()!).ToList();
        // 0.8 of 11 normal images = 9 train; a quarter of those (2) is below the minimum of 5 validation images, so 5 validate.
        Assert.Equal((4, 5), (trainImages.Count, validationImages.Count));
        Assert.Contains("threshold fitted on 5 validation normal images (the minimum; --validation-ratio 0.25 alone would hold back 2)", train.Stdout);
        Assert.Empty(trainImages.Intersect(validationImages));
        var calibration = ReadManifest(model).GetProperty("calibration").Deserialize<ScoreCalibration>()!;
        Assert.Equal("fpr:0", calibration.Rule);

        var test = VigilProcess.Run(work, "test", "-f", model, "-o", Path.Combine(work, "out"));
        Assert.True(test.ExitCode == 0, test.ToString());
        Assert.Contains("padim", test.Stdout);
        Assert.Contains("At the calibrated threshold", test.Stdout);
        Assert.DoesNotContain("NaN", test.Stdout.Split('\n').First(l => l.Contains("│ padim"))); // masks were found: pixel metrics exist
        using (var store = ResultsStore.Open(null, Path.Combine(work, "out")))
            Assert.Equal("padim", Assert.Single(store.Cells(Assert.Single(store.Runs()).Id)).Key.Model);

        // Another split of the same folder would put training images into the test set: refused.
        var leaky = VigilProcess.Run(work, "test", "-f", model, "--split-seed", "7");
        Assert.Equal(2, leaky.ExitCode);
        Assert.Contains("used to train or calibrate", leaky.Stderr);

        var images = Path.Combine(line, "abnormal", Directory.GetDirectories(Path.Combine(line, "abnormal")).Select(Path.GetFileName).First()!);
        var corrupt = Path.Combine(work, "corrupt.png");
        File.WriteAllText(corrupt, "not an image");
        var predictions = Path.Combine(work, "predictions");
        var predict = VigilProcess.Run(work, "predict", "-f", model, images, corrupt, "-o", predictions);
        Assert.Equal(1, predict.ExitCode); // one image failed; the others are still scored
        Assert.Contains("corrupt.png", predict.Stderr);
        var rows = File.ReadAllLines(Path.Combine(predictions, "predictions.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(Directory.GetFiles(images).Length + 1, rows.Count);
        foreach (var row in rows.Where(r => r[6].Length == 0))
        {
            float score = float.Parse(row[1], CultureInfo.InvariantCulture), normalised = float.Parse(row[2], CultureInfo.InvariantCulture);
            // The label is the threshold rule, and the normalised score puts the threshold at 0.5.
            Assert.Equal(score >= calibration.ImageThreshold, bool.Parse(row[3]));
            Assert.Equal(bool.Parse(row[3]), normalised >= 0.5f);
            var overlay = ImageIO.ReadRgb(row[5]);
            var source = ImageIO.ReadRgb(row[0]);
            Assert.Equal((source.Height, source.Width), (overlay.Height, overlay.Width));
        }
        Assert.Contains(rows, r => r[0] == corrupt && r[6].Contains("cannot be decoded"));
    }

    /// <summary>The tiny dataset re-laid as a user's folder (normal/, abnormal/&lt;type&gt;/, masks/&lt;type&gt;/), which has no official split.</summary>
    private static string FolderDatasetOf(TinySynthetic data, string root)
    {
        var category = Path.Combine(data.Root, TinySynthetic.Category);
        void Copy(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        Copy(Path.Combine(category, "train", "good"), Path.Combine(root, "normal"));
        foreach (var file in Directory.GetFiles(Path.Combine(category, "test", "good")))
            File.Copy(file, Path.Combine(root, "normal", "test_" + Path.GetFileName(file)));
        foreach (var type in Directory.GetDirectories(Path.Combine(category, "test")).Select(Path.GetFileName).Where(t => t != "good"))
        {
            Copy(Path.Combine(category, "test", type!), Path.Combine(root, "abnormal", type!));
            Copy(Path.Combine(category, "ground_truth", type!), Path.Combine(root, "masks", type!));
        }
        return root;
    }

    private static JsonElement ReadManifest(string modelFile)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(modelFile);
        using var stream = zip.GetEntry("manifest.json")!.Open();
        return JsonDocument.Parse(stream).RootElement.Clone();
    }
}
