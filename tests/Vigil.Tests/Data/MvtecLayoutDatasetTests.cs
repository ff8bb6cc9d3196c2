using Vigil.Data;

namespace Vigil.Tests.Data;

public class MvtecLayoutDatasetTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    private void MvtecBottle()
    {
        _tree.Image("bottle/train/good/000.png");
        _tree.Image("bottle/train/good/001.png");
        _tree.Image("bottle/test/good/000.png");
        _tree.Image("bottle/test/crack/000.png");
        _tree.Image("bottle/test/crack/001.png");
        _tree.Image("bottle/test/scratch/000.png");
        _tree.Mask("bottle/ground_truth/crack/000_mask.png");
        _tree.Mask("bottle/ground_truth/crack/001_mask.png");
        _tree.Mask("bottle/ground_truth/scratch/000_mask.png");
        _tree.Text("license.txt", "not a category");
        _tree.Folder("docs/images"); // a folder without train/ and test/ is not a category
    }

    [Fact]
    public void MvtecLayoutListsCategoriesAndPairsEachDefectWithItsMask()
    {
        MvtecBottle();
        var dataset = new MvtecLayoutDataset(_tree.Root);
        Assert.Equal(["bottle"], dataset.Categories);
        var split = dataset.Load("bottle");
        Assert.Equal(2, split.Train.Count);
        Assert.All(split.Train, s => Assert.Equal((SampleLabel.Normal, "good", (MaskSource?)null), (s.Label, s.DefectType, s.Mask)));
        Assert.Equal((1, 3), (split.TestNormalCount, split.TestAnomalousCount));
        var crack1 = split.Test.Single(s => s.SourcePath == _tree.Path("bottle/test/crack/001.png"));
        Assert.Equal(("crack", "mvtec", "bottle"), (crack1.DefectType, crack1.Dataset, crack1.Category));
        Assert.Equal(new MaskFile(_tree.Path("bottle/ground_truth/crack/001_mask.png")), crack1.Mask);
        Assert.Equal("scratch", split.Test.Single(s => s.SourcePath.Contains("scratch")).DefectType);
    }

    [Fact]
    public void BtadUsesOkForNormalAndMasksNamedLikeTheirImageInBmp()
    {
        _tree.Image("03/train/ok/0000.bmp");
        _tree.Image("03/test/ok/0001.bmp");
        _tree.Image("03/test/ko/0002.bmp");
        _tree.Mask("03/ground_truth/ko/0002.bmp");
        var split = new MvtecLayoutDataset(_tree.Root, "btad").Load("03");
        Assert.Equal("btad", split.Dataset);
        Assert.Single(split.Train);
        Assert.Equal("good", split.Test.Single(s => !s.IsAnomalous).DefectType);
        var defect = split.Test.Single(s => s.IsAnomalous);
        Assert.Equal(("ko", new MaskFile(_tree.Path("03/ground_truth/ko/0002.bmp"))), (defect.DefectType, defect.Mask));
    }

    [Fact]
    public void Mvtec3dReadsRgbImagesAndGtMasksAndIgnoresDepth()
    {
        _tree.Image("bagel/train/good/rgb/000.png");
        _tree.Image("bagel/train/good/xyz/000.tiff");
        _tree.Image("bagel/validation/good/rgb/000.png");
        _tree.Image("bagel/test/good/rgb/000.png");
        _tree.Image("bagel/test/good/gt/000.png");
        _tree.Image("bagel/test/hole/rgb/000.png");
        _tree.Image("bagel/test/hole/xyz/000.tiff");
        _tree.Mask("bagel/test/hole/gt/000.png");
        var split = new MvtecLayoutDataset(_tree.Root, "mvtec3d").Load("bagel");
        Assert.Equal([_tree.Path("bagel/train/good/rgb/000.png")], split.Train.Select(s => s.SourcePath));
        Assert.Equal(2, split.Test.Count);
        var hole = split.Test.Single(s => s.IsAnomalous);
        Assert.Equal(_tree.Path("bagel/test/hole/rgb/000.png"), hole.SourcePath);
        Assert.Equal(new MaskFile(_tree.Path("bagel/test/hole/gt/000.png")), hole.Mask);
        Assert.Equal(1, hole.Load().Mask.CountDefective());
    }

    [Fact]
    public void MissingMaskNamesTheImageAndTheExpectedMaskPath()
    {
        MvtecBottle();
        File.Delete(_tree.Path("bottle/ground_truth/crack/001_mask.png"));
        var e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(_tree.Root).Load("bottle"));
        Assert.Contains(_tree.Path("bottle/test/crack/001.png"), e.Message);
        Assert.Contains(_tree.Path("bottle/ground_truth/crack/001_mask.png"), e.Message);
    }

    [Fact]
    public void EmptyTrainingFolderIsAnErrorNamingTheCategory()
    {
        _tree.Folder("cable/train/good");
        _tree.Image("cable/test/good/000.png");
        var e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(_tree.Root).Load("cable"));
        Assert.Contains("'cable'", e.Message);
        Assert.Contains("0 training", e.Message);
    }

    [Fact]
    public void UnknownCategoryListsTheKnownOnes()
    {
        MvtecBottle();
        _tree.Image("zipper/train/good/000.png");
        _tree.Folder("zipper/test");
        var e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(_tree.Root).Load("botle"));
        Assert.Contains("'botle'", e.Message);
        Assert.Contains("bottle, zipper", e.Message);
    }

    [Fact]
    public void MissingRootIsAnErrorNamingIt()
    {
        var missing = _tree.Path("nowhere");
        var e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(missing));
        Assert.Contains($"'{missing}' does not exist", e.Message);
        var file = _tree.Text("list.csv", "");
        e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(file));
        Assert.Contains($"'{file}' is a file, not a folder", e.Message);
    }

    [Fact]
    public void CategoryFolderGivenAsRootSuggestsItsParent()
    {
        MvtecBottle();
        var e = Assert.Throws<VigilInputException>(() => new MvtecLayoutDataset(_tree.Path("bottle")));
        Assert.Contains("single category", e.Message);
        Assert.Contains($"'{_tree.Root}'", e.Message);
    }

    [Fact]
    public void MaskOfAnotherSizeFailsWhenLoadedNamingTheMask()
    {
        MvtecBottle();
        var mask = _tree.Mask("bottle/ground_truth/scratch/000_mask.png", height: 5, width: 8);
        var sample = new MvtecLayoutDataset(_tree.Root).Load("bottle").Test.Single(s => s.DefectType == "scratch");
        var e = Assert.Throws<VigilInputException>(() => sample.Load());
        Assert.Contains(mask, e.Message);
    }
}
