using OpenCvSharp;
using Vigil.Data.Synthetic;
using Vigil.Imaging;

namespace Vigil.Tests.Data.Synthetic;

public class SyntheticLayoutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-synth-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly SyntheticOptions Small = new() { ImageSize = 48, TrainGoodCount = 3, TestGoodCount = 2, TestDefectCount = 2 };

    [Fact]
    public void WritesExactlyTheMvtecTree()
    {
        var root = SyntheticDataset.Generate(Path.Combine(_dir, "ds"), Small);

        // The MVTec AD layout, spelled out independently of the generator.
        var expected = new List<string> { SyntheticDataset.ManifestFileName };
        foreach (var category in new[] { "wood", "nut", "tile" })
        {
            expected.AddRange(new[] { "000", "001", "002" }.Select(n => $"{category}/train/good/{n}.png"));
            expected.AddRange(new[] { "000", "001" }.Select(n => $"{category}/test/good/{n}.png"));
            foreach (var defect in SyntheticDataset.DefectTypes(category))
                foreach (var n in new[] { "000", "001" })
                {
                    expected.Add($"{category}/test/{defect}/{n}.png");
                    expected.Add($"{category}/ground_truth/{defect}/{n}_mask.png");
                }
        }
        var actual = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !Path.GetFileName(f).StartsWith('.')) // the hidden lock file
            .Order().ToList();
        Assert.Equal(expected.Order().ToList(), actual);
        Assert.Equal(new[] { "crack", "missing", "scratch", "stain" }, new[] { "wood", "nut", "tile" }.SelectMany(SyntheticDataset.DefectTypes).Distinct().Order());
    }

    [Fact]
    public void ImagesAreColourAndMasksAreNonEmptyBinaryOfTheImageSize()
    {
        var root = SyntheticDataset.Generate(Path.Combine(_dir, "ds"), Small with { Categories = ["nut"] });
        foreach (var image in Directory.EnumerateFiles(Path.Combine(root, "nut"), "*.png", SearchOption.AllDirectories))
        {
            using var mat = Cv2.ImRead(image, ImreadModes.Unchanged);
            Assert.Equal((48, 48, MatType.CV_8U), (mat.Rows, mat.Cols, mat.Depth()));
            if (!image.EndsWith("_mask.png"))
            {
                Assert.Equal(3, mat.Channels());
                continue;
            }
            Assert.Equal(1, mat.Channels());
            mat.GetArray(out byte[] values);
            Assert.All(values, v => Assert.True(v is 0 or 255, $"{image} has mask value {v}"));
            Assert.Contains((byte)255, values);
        }
    }

    [Fact]
    public void FilesHoldTheRenderedSamplesAndTheirExactMasks()
    {
        var options = Small with { Categories = ["wood"] };
        var root = SyntheticDataset.Generate(Path.Combine(_dir, "ds"), options);
        foreach (var (split, type, index) in new[] { ("train", "good", 2), ("test", "good", 0), ("test", "crack", 1) })
        {
            var expected = SyntheticDataset.RenderFile(options, "wood", split, type, index);
            var image = ImageIO.ReadRgb(Path.Combine(root, "wood", split, type, $"{index:000}.png"));
            Assert.Equal(expected.Image.Data.Select(GreyLevel), image.Data.Select(GreyLevel));
            if (type == "good") continue;
            var mask = ImageIO.ReadMask(Path.Combine(root, "wood", "ground_truth", type, $"{index:000}_mask.png"));
            Assert.Equal(expected.Mask.Data, mask.Data);
        }
    }

    private static int GreyLevel(float value) => (int)MathF.Round(value * 255);

    [Fact]
    public void ConcurrentCallsOnOneFolderBothSeeACompleteTree()
    {
        var root = Path.Combine(_dir, "ds");
        var options = Small with { Categories = ["nut"] };
        Parallel.For(0, 3, _ => SyntheticDataset.Generate(root, options));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(root, "nut", "train", "good")).Length);
        Assert.Equal(2 * 3, Directory.GetFiles(Path.Combine(root, "nut", "ground_truth"), "*_mask.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void SameOptionsSkipRegenerationAndOtherOptionsReplaceTheTree()
    {
        var root = Path.Combine(_dir, "ds");
        var options = Small with { Categories = ["tile"] };
        SyntheticDataset.Generate(root, options);
        var first = Path.Combine(root, "tile", "train", "good", "000.png");
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(first, stamp);

        SyntheticDataset.Generate(root, options);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(first));

        SyntheticDataset.Generate(root, options with { TrainGoodCount = 1, Categories = ["wood"] });
        Assert.False(Directory.Exists(Path.Combine(root, "tile")));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "wood", "train", "good")));

        File.Delete(Path.Combine(root, "wood", "test", "good", "000.png")); // an incomplete tree is regenerated
        SyntheticDataset.Generate(root, options with { TrainGoodCount = 1, Categories = ["wood"] });
        Assert.True(File.Exists(Path.Combine(root, "wood", "test", "good", "000.png")));
    }

    [Fact]
    public void RefusesToOverwriteAFolderThatIsNotASyntheticDataset()
    {
        var root = Path.Combine(_dir, "user-data");
        Directory.CreateDirectory(Path.Combine(root, "bottle"));
        var e = Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(root, Small));
        Assert.Contains(root, e.Message);
        Assert.True(Directory.Exists(Path.Combine(root, "bottle")));
        File.WriteAllText(Path.Combine(root, SyntheticDataset.ManifestFileName), "someone else's file");
        Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(root, Small));
        Assert.True(Directory.Exists(Path.Combine(root, "bottle")));

        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        Assert.Contains(file, Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(file, Small)).Message);
    }

    [Fact]
    public void BadOptionsAreInputErrorsNamingTheValue()
    {
        var root = Path.Combine(_dir, "ds");
        Assert.Contains("screw", Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(root, Small with { Categories = ["screw"] })).Message);
        Assert.Contains("8", Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(root, Small with { ImageSize = 8 })).Message);
        Assert.Throws<VigilInputException>(() => SyntheticDataset.Generate(root, Small with { TrainGoodCount = 0 }));
        Assert.Contains("crack", Assert.Throws<VigilInputException>(() => SyntheticDataset.Render("nut", 64, 1, "crack")).Message);
    }

    [Fact]
    public void SameSeedGivesIdenticalBytesAndAnotherSeedOtherImages()
    {
        var options = Small with { Categories = ["wood", "nut"] };
        var a = SyntheticDataset.Generate(Path.Combine(_dir, "a"), options);
        var b = SyntheticDataset.Generate(Path.Combine(_dir, "b"), options);
        var c = SyntheticDataset.Generate(Path.Combine(_dir, "c"), options with { Seed = 7 });
        var files = Directory.EnumerateFiles(a, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).ToList();
        Assert.Equal(2 * (3 + 2 + 3 * 2 * 2), files.Count);
        foreach (var f in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
            if (!f.EndsWith("_mask.png"))
                Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(c, f)));
        }
    }

    [Fact]
    public void EveryImageOfADatasetIsDifferent()
    {
        var root = SyntheticDataset.Generate(Path.Combine(_dir, "ds"), Small with { Categories = ["tile"] });
        var images = Directory.EnumerateFiles(root, "*.png", SearchOption.AllDirectories).Where(f => !f.EndsWith("_mask.png"))
            .Select(f => Convert.ToBase64String(File.ReadAllBytes(f))).ToList();
        Assert.Equal(images.Count, images.Distinct().Count());
    }
}
