using Vigil.Data;

namespace Vigil.Tests.Data;

/// <summary>MTD and KolektorSDD on small generated trees: layout, protocol and bad input.</summary>
public class MtdAndKolektorTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    private void Mtd(int normals)
    {
        for (int i = 0; i < normals; i++)
        {
            _tree.Image($"MT_Free/Imgs/n{i}.jpg");
            _tree.Image($"MT_Free/Imgs/n{i}.png", value: 0);
        }
        _tree.Image("MT_Crack/Imgs/c0.jpg");
        _tree.Mask("MT_Crack/Imgs/c0.png");
        _tree.Image("MT_Fray/Imgs/f0.jpg");
        _tree.Mask("MT_Fray/Imgs/f0.png");
        _tree.Image("dataset.jpg"); // the repository's overview picture is not a sample
    }

    [Fact]
    public void MtdSplitsNormalsAndTestsEveryDefectWithTypeFromFolderName()
    {
        Mtd(10);
        var dataset = new MtdDataset(_tree.Root);
        Assert.Equal(["mtd"], dataset.Categories);
        var split = dataset.Load("mtd");
        Assert.Equal((8, 2, 2), (split.Train.Count, split.TestNormalCount, split.TestAnomalousCount));
        Assert.All(split.Train.Concat(split.Test), s => Assert.EndsWith(".jpg", s.SourcePath));
        var fray = split.Test.Single(s => s.DefectType == "Fray");
        Assert.Equal(new MaskFile(_tree.Path("MT_Fray/Imgs/f0.png")), fray.Mask);
        Assert.Equal(["Crack", "Fray"], split.Test.Where(s => s.IsAnomalous).Select(s => s.DefectType).Order());
    }

    [Fact]
    public void MtdDefectWithoutMaskNamesTheExpectedMask()
    {
        Mtd(4);
        File.Delete(_tree.Path("MT_Crack/Imgs/c0.png"));
        var e = Assert.Throws<VigilInputException>(() => new MtdDataset(_tree.Root).Load("mtd"));
        Assert.Contains(_tree.Path("MT_Crack/Imgs/c0.jpg"), e.Message);
        Assert.Contains(_tree.Path("MT_Crack/Imgs/c0.png"), e.Message);
    }

    [Fact]
    public void MtdRootWithoutNormalFolderSaysWhatItExpected()
    {
        _tree.Image("MT_Crack/Imgs/c0.jpg");
        var e = Assert.Throws<VigilInputException>(() => new MtdDataset(_tree.Root));
        Assert.Contains("MT_Free", e.Message);
    }

    [Fact]
    public void MtdWithoutNormalImagesIsAnEmptyCategoryError()
    {
        Mtd(0);
        _tree.Folder("MT_Free/Imgs");
        var e = Assert.Throws<VigilInputException>(() => new MtdDataset(_tree.Root).Load("mtd"));
        Assert.Contains("0 normal image", e.Message);
    }

    private void Ksdd()
    {
        for (int i = 0; i < 4; i++)
        {
            _tree.Image($"Datasets/images/train/{i:D3}.jpg", height: 20, width: 10);
            _tree.Text($"Datasets/labels/train/{i:D3}.txt", "");
        }
        _tree.Image("Datasets/images/val/100.jpg", height: 20, width: 10);
        _tree.Text("Datasets/labels/val/100.txt", "0 0 0 0.2 0 0.2 0.1 0 0.1\n"); // 2x2 px at the top-left
        _tree.Text("Datasets/data.yaml", "names: [defect]");
    }

    [Fact]
    public void KolektorPoolsTrainAndValAndRasterisesDefectPolygons()
    {
        Ksdd();
        foreach (var root in new[] { _tree.Root, _tree.Path("Datasets") })
        {
            var split = new KolektorDataset(root, new SplitOptions(0.5, 1)).Load("ksdd");
            Assert.Equal((2, 2, 1), (split.Train.Count, split.TestNormalCount, split.TestAnomalousCount));
            var defect = split.Test.Single(s => s.IsAnomalous);
            Assert.Equal(_tree.Path("Datasets/images/val/100.jpg"), defect.SourcePath);
            var mask = defect.Load().Mask;
            Assert.Equal((20, 10, 4), (mask.Height, mask.Width, mask.CountDefective()));
            Assert.True(mask[0, 0] && mask[1, 1]);
        }
    }

    [Fact]
    public void KolektorImageWithoutLabelFileNamesTheExpectedLabel()
    {
        Ksdd();
        File.Delete(_tree.Path("Datasets/labels/train/002.txt"));
        var e = Assert.Throws<VigilInputException>(() => new KolektorDataset(_tree.Root).Load("ksdd"));
        Assert.Contains(_tree.Path("Datasets/images/train/002.jpg"), e.Message);
        Assert.Contains(_tree.Path("Datasets/labels/train/002.txt"), e.Message);
    }

    [Fact]
    public void KolektorRootWithoutImagesSaysWhereToPoint()
    {
        _tree.Folder("elsewhere");
        var e = Assert.Throws<VigilInputException>(() => new KolektorDataset(_tree.Path("elsewhere")));
        Assert.Contains("images", e.Message);
    }
}
