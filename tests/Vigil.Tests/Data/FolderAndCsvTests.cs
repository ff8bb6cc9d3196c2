using Vigil.Data;

namespace Vigil.Tests.Data;

/// <summary>Users' own data: the folder format, the CSV manifest, and VisA's split CSV.</summary>
public class FolderAndCsvTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    private void Folder(bool masks)
    {
        for (int i = 0; i < 5; i++) _tree.Image($"parts/normal/g{i}.png");
        _tree.Image("parts/abnormal/loose.jpg");
        _tree.Image("parts/abnormal/scratch/s0.png");
        _tree.Image("parts/abnormal/scratch/s1.bmp");
        _tree.Text("parts/normal/notes.txt", "ignored");
        if (!masks) return;
        _tree.Mask("parts/masks/loose_mask.png");
        _tree.Mask("parts/masks/scratch/s0.png");
        _tree.Mask("parts/masks/s1_mask.bmp"); // a type's mask may also sit directly in masks/
    }

    [Fact]
    public void FolderSplitsNormalsTypesAbnormalsBySubfolderAndMatchesMasksByStem()
    {
        Folder(masks: true);
        var dataset = new FolderDataset(_tree.Path("parts"));
        Assert.Equal(["parts"], dataset.Categories);
        var split = dataset.Load("parts");
        Assert.Equal((4, 1, 3), (split.Train.Count, split.TestNormalCount, split.TestAnomalousCount));
        var byImage = split.Test.Where(s => s.IsAnomalous).ToDictionary(s => Path.GetFileName(s.SourcePath));
        Assert.Equal(("abnormal", new MaskFile(_tree.Path("parts/masks/loose_mask.png"))), (byImage["loose.jpg"].DefectType, byImage["loose.jpg"].Mask));
        Assert.Equal(("scratch", new MaskFile(_tree.Path("parts/masks/scratch/s0.png"))), (byImage["s0.png"].DefectType, byImage["s0.png"].Mask));
        Assert.Equal(new MaskFile(_tree.Path("parts/masks/s1_mask.bmp")), byImage["s1.bmp"].Mask);
    }

    [Fact]
    public void FolderWithoutMasksGivesImageLevelLabelsOnly()
    {
        Folder(masks: false);
        var split = new FolderDataset(_tree.Path("parts")).Load("parts");
        Assert.All(split.Test.Where(s => s.IsAnomalous), s => Assert.Null(s.Mask));
    }

    [Fact]
    public void FolderWithMasksButOneMissingNamesImageAndExpectedMask()
    {
        Folder(masks: true);
        File.Delete(_tree.Path("parts/masks/scratch/s0.png"));
        var e = Assert.Throws<VigilInputException>(() => new FolderDataset(_tree.Path("parts")).Load("parts"));
        Assert.Contains(_tree.Path("parts/abnormal/scratch/s0.png"), e.Message);
        Assert.Contains(_tree.Path("parts/masks/scratch/s0.png"), e.Message);
    }

    [Fact]
    public void FolderWithoutNormalSubfolderSaysToCreateIt()
    {
        _tree.Image("parts/good/a.png");
        var e = Assert.Throws<VigilInputException>(() => new FolderDataset(_tree.Path("parts")));
        Assert.Contains(_tree.Path("parts/normal"), e.Message);
    }

    [Fact]
    public void FolderWithEmptyNormalSubfolderIsAnError()
    {
        _tree.Folder("parts/normal");
        var e = Assert.Throws<VigilInputException>(() => new FolderDataset(_tree.Path("parts")).Load("parts"));
        Assert.Contains("holds no image", e.Message);
    }

    [Fact]
    public void ManifestReadsRelativePathsLabelsSplitsAndMasksInAnyColumnOrder()
    {
        _tree.Image("data/img/a.png");
        _tree.Image("data/img/b.png");
        _tree.Image("data/img/c, d.png");
        _tree.Mask("data/gt/c.png");
        _tree.Image("data/img/e.png");
        var csv = _tree.Text("data/list.csv", "split,path,label,mask\ntrain,img/a.png,good,\ntest,img/b.png,0,\ntest,\"img/c, d.png\",anomalous,gt/c.png\n\ntest,img/e.png,1,\n");
        var dataset = new CsvManifestDataset(csv);
        Assert.Equal(["list"], dataset.Categories);
        var split = dataset.Load("list");
        Assert.Equal([_tree.Path("data/img/a.png")], split.Train.Select(s => s.SourcePath));
        Assert.Equal((1, 2), (split.TestNormalCount, split.TestAnomalousCount));
        Assert.Null(split.Test.Single(s => s.SourcePath.EndsWith("e.png")).Mask); // no mask: an image-level label
        var defect = split.Test.Single(s => s.SourcePath.EndsWith("d.png"));
        Assert.Equal((_tree.Path("data/img/c, d.png"), new MaskFile(_tree.Path("data/gt/c.png"))), (defect.SourcePath, defect.Mask));
    }

    [Theory]
    [InlineData("path,label\nimg/a.png,normal\n", "lacks column(s) split")]
    [InlineData("path,label,split\nimg/a.png,weird,train\n", "label 'weird'")]
    [InlineData("path,label,split\nimg/a.png,normal,val\n", "split 'val'")]
    [InlineData("path,label,split\nimg/a.png,1,train\n", "in the train split")]
    [InlineData("path,label,split\nimg/missing.png,normal,train\n", "does not exist")]
    [InlineData("path,label,split,mask\nimg/a.png,1,test,gt/none.png\n", "mask")]
    [InlineData("path,label,split\nimg/a.png,normal,train\n", "0 test images")]
    [InlineData("", "is empty")]
    public void BadManifestIsAnErrorNamingTheFileAndWhatToFix(string content, string expected)
    {
        _tree.Image("data/img/a.png");
        var csv = _tree.Text("data/list.csv", content);
        var e = Assert.Throws<VigilInputException>(() => new CsvManifestDataset(csv).Load("list"));
        Assert.Contains(csv, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void VisaSplitCsvIsReadDirectly()
    {
        _tree.Image("candle/Data/Images/Normal/0000.JPG");
        _tree.Image("candle/Data/Images/Normal/0001.JPG");
        _tree.Image("candle/Data/Images/Anomaly/000.JPG");
        _tree.Mask("candle/Data/Masks/Anomaly/000.png");
        _tree.Image("pcb1/Data/Images/Normal/0000.JPG");
        _tree.Image("pcb1/Data/Images/Normal/0001.JPG");
        _tree.Text("split_csv/1cls.csv", """
            object,split,label,image,mask
            candle,train,normal,candle/Data/Images/Normal/0000.JPG,
            candle,test,normal,candle/Data/Images/Normal/0001.JPG,
            candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png
            pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,
            pcb1,test,normal,pcb1/Data/Images/Normal/0001.JPG,
            """);
        var dataset = DatasetCatalog.Open("visa:" + _tree.Root);
        Assert.IsType<VisaCsvDataset>(dataset);
        Assert.Equal(["candle", "pcb1"], dataset.Categories);
        var split = dataset.Load("candle");
        Assert.Equal((1, 1, 1), (split.Train.Count, split.TestNormalCount, split.TestAnomalousCount));
        Assert.Equal(new MaskFile(_tree.Path("candle/Data/Masks/Anomaly/000.png")), split.Test.Single(s => s.IsAnomalous).Mask);
    }

    [Fact]
    public void VisaAnomalyWithoutMaskNamesTheRow()
    {
        _tree.Image("candle/Data/Images/Anomaly/000.JPG");
        var csv = _tree.Text("split_csv/1cls.csv", "object,split,label,image,mask\ncandle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png\n");
        var e = Assert.Throws<VigilInputException>(() => new VisaCsvDataset(_tree.Root).Load("candle"));
        Assert.Contains($"'{csv}' line 2", e.Message);
        Assert.Contains(_tree.Path("candle/Data/Masks/Anomaly/000.png"), e.Message);
    }
}
