using Vigil.Data;

namespace Vigil.Tests.Data;

public class ValidationAndCatalogTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    /// <summary>A valid MVTec-layout category "c" with 2 train, 1 normal test and 2 defective test images.</summary>
    private DatasetSplit Category()
    {
        _tree.Image("c/train/good/0.png");
        _tree.Image("c/train/good/1.png");
        _tree.Image("c/test/good/0.png");
        _tree.Image("c/test/dent/0.png");
        _tree.Image("c/test/dent/1.png");
        _tree.Mask("c/ground_truth/dent/0_mask.png");
        _tree.Mask("c/ground_truth/dent/1_mask.png");
        return new MvtecLayoutDataset(_tree.Root).Load("c");
    }

    [Fact]
    public void ValidSplitPassesUnchanged()
    {
        var split = Category();
        var (clean, skipped, _) = DatasetValidation.Check(split, skipCorrupt: false);
        Assert.Empty(skipped);
        Assert.Equal(split.Train, clean.Train);
        Assert.Equal(split.Test, clean.Test);
    }

    [Fact]
    public void CorruptImageThrowsNamingItUnlessSkippingThenItIsDroppedAndReported()
    {
        var split = Category();
        var truncated = _tree.Path("c/train/good/1.png");
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        var wrongMask = _tree.Mask("c/ground_truth/dent/1_mask.png", height: 3, width: 3);

        var e = Assert.Throws<VigilInputException>(() => DatasetValidation.Check(split, skipCorrupt: false));
        Assert.Contains(truncated, e.Message);

        var (clean, skipped, _) = DatasetValidation.Check(split, skipCorrupt: true);
        Assert.Equal([_tree.Path("c/train/good/0.png")], clean.Train.Select(s => s.SourcePath));
        Assert.Equal(2, clean.Test.Count);
        Assert.Equal([truncated, _tree.Path("c/test/dent/1.png")], skipped.Select(s => s.Sample.SourcePath));
        Assert.Contains(truncated, skipped[0].Reason);
        Assert.Contains(wrongMask, skipped[1].Reason);
    }

    [Fact]
    public void AnUnusableFileStopsTheRunSayingHowToSkipIt()
    {
        var split = Category();
        File.WriteAllText(_tree.Path("c/test/good/0.png"), "not a png");
        var e = Assert.Throws<VigilInputException>(() => DatasetValidation.Check(split, skipCorrupt: false));
        Assert.Contains(_tree.Path("c/test/good/0.png"), e.Message);
        Assert.Contains("--skip-corrupt", e.Message);
    }

    [Fact]
    public void ImagesBelowTheMinimumSideAreKeptAndListed()
    {
        var split = Category(); // 8 × 6 images: every one is tiny
        _tree.Image("c/train/good/0.png", height: 1, width: 1);
        _tree.Image("c/train/good/1.png", height: 32, width: 32);
        var (clean, skipped, tiny) = DatasetValidation.Check(split, skipCorrupt: false);
        Assert.Empty(skipped);
        Assert.Equal(split.Train, clean.Train); // kept
        Assert.Equal([_tree.Path("c/train/good/0.png"), .. split.Test.Select(s => s.SourcePath)], tiny.Select(t => t.Sample.SourcePath));
        Assert.Equal((1, 1), (tiny[0].Height, tiny[0].Width));
        Assert.Contains("1x1 pixels", tiny[0].Text);
        var check = DatasetValidation.Check(split, skipCorrupt: false);
        Assert.StartsWith($"4 images are below 32 pixels on a side (the first, '{_tree.Path("c/train/good/0.png")}', is 1x1)", check.TinySummary);
        Assert.Equal(tiny[0].Text, (check with { Tiny = [tiny[0]] }).TinySummary);
        Assert.Null((check with { Tiny = [] }).TinySummary);
    }

    [Fact]
    public void SkippingEveryTrainingImageIsAnError()
    {
        var split = Category();
        File.WriteAllText(_tree.Path("c/train/good/0.png"), "not a png");
        File.WriteAllText(_tree.Path("c/train/good/1.png"), "");
        var e = Assert.Throws<VigilInputException>(() => DatasetValidation.Check(split, skipCorrupt: true));
        Assert.Contains("0 training", e.Message);
    }

    [Theory]
    [InlineData("mvtec", "mvtec")]
    [InlineData("MPDD", "mpdd")]
    [InlineData("btad", "btad")]
    [InlineData("mvtec3d", "mvtec3d")]
    [InlineData("visa", "visa")]
    public void MvtecLayoutSpecsOpenTheLayoutUnderTheirName(string name, string expected)
    {
        Category();
        var dataset = DatasetCatalog.Open($"{name}:{_tree.Root}");
        Assert.IsType<MvtecLayoutDataset>(dataset);
        Assert.Equal(expected, dataset.Name);
        Assert.Equal(expected, dataset.Load("c").Train[0].Dataset);
    }

    [Fact]
    public void FolderCsvMtdAndKsddSpecsOpenTheirLoaders()
    {
        for (int i = 0; i < 2; i++) _tree.Image($"f/normal/{i}.png");
        _tree.Image($"m/MT_Free/Imgs/0.jpg");
        _tree.Folder("k/images/train");
        var csv = _tree.Text("list.csv", "path,label,split\n");
        Assert.IsType<FolderDataset>(DatasetCatalog.Open("folder:" + _tree.Path("f")));
        Assert.IsType<CsvManifestDataset>(DatasetCatalog.Open("csv:" + csv));
        Assert.IsType<MtdDataset>(DatasetCatalog.Open("mtd:" + _tree.Path("m")));
        Assert.IsType<KolektorDataset>(DatasetCatalog.Open("ksdd:" + _tree.Path("k")));
    }

    [Fact]
    public void MtdAndKsddWithoutPathFindTheSharedData()
    {
        SharedData.RequireDirectory("data", "mtd");
        Assert.Equal(["mtd"], DatasetCatalog.Open("mtd").Categories);
        Assert.Equal(["ksdd"], DatasetCatalog.Open("ksdd").Categories);
    }

    [Fact]
    public void UnknownNameListsEveryKnownSpec()
    {
        var e = Assert.Throws<VigilInputException>(() => DatasetCatalog.Open("mvtek:/x"));
        Assert.Contains("'mvtek'", e.Message);
        foreach (var name in new[] { "mvtec:", "mpdd:", "btad:", "mvtec3d:", "visa:", "mtd[:", "ksdd[:", "folder:", "csv:" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void SpecThatNeedsAPathSaysHowToWriteIt()
    {
        var e = Assert.Throws<VigilInputException>(() => DatasetCatalog.Open("mvtec"));
        Assert.Contains("mvtec:/path/to/mvtec", e.Message);
    }
}
