using Vigil.Data;

namespace Vigil.Tests.Data;

public class DagmDatasetTests : IDisposable
{
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    /// <summary>
    /// Class1 as the archive ships it: Labels.txt with a byte-order mark, the one-number first line and tab-separated
    /// lines, a defective training image, a defective test image with its ellipse label and one flagged without a label
    /// image (label column 0). Class2 sits one level deeper (Class2/Class2/), Class10 checks the numeric order.
    /// </summary>
    private void Tree()
    {
        foreach (var name in new[] { "0001.PNG", "0002.PNG", "0003.PNG" }) _tree.Image("Class1/Train/" + name);
        _tree.Mask("Class1/Train/Label/0003_label.PNG");
        _tree.Text("Class1/Train/Label/Labels.txt", "\uFEFF1\n1\t0\t0001.PNG\t0\t0\n2\t0\t0002.PNG\t0\t0\n3\t1\t0003.PNG\t0\t0003_label.PNG\n");
        foreach (var name in new[] { "0576.PNG", "0577.PNG", "0578.PNG" }) _tree.Image("Class1/Test/" + name);
        _tree.Mask("Class1/Test/Label/0577_label.PNG");
        _tree.Text("Class1/Test/Label/Labels.txt", "1\r\n1\t0\t0576.PNG\t0\t0\r\n2\t1\t0577.PNG\t0\t0577_label.PNG\r\n3\t1\t0578.PNG\t0\t0\r\n\r\n");
        foreach (var part in new[] { "Class2/Class2", "Class10" })
        {
            _tree.Image($"{part}/Train/0001.PNG");
            _tree.Text($"{part}/Train/Label/Labels.txt", "2\n1 0 0001.PNG 0 0\n");
            _tree.Image($"{part}/Test/0002.PNG");
            _tree.Text($"{part}/Test/Label/Labels.txt", "2\n1 0 0002.PNG 0 0\n");
        }
        _tree.Folder("Class3_def"); // the competition's defect-only folders have no Train/Test: not a class
    }

    [Fact]
    public void LabelsComeFromLabelsTxtAndMasksFromTheLabelImages()
    {
        Tree();
        var dataset = new DagmDataset(_tree.Root);
        Assert.Equal(["Class1", "Class2", "Class10"], dataset.Categories);
        var split = dataset.Load("Class1");
        Assert.Equal(("dagm", "Class1"), (split.Dataset, split.Category));
        Assert.Equal([_tree.Path("Class1/Train/0001.PNG"), _tree.Path("Class1/Train/0002.PNG")], split.Train.Select(s => s.SourcePath));
        Assert.All(split.Train, s => Assert.Equal((SampleLabel.Normal, "good", (MaskSource?)null), (s.Label, s.DefectType, s.Mask)));
        Assert.Empty(split.Validation);

        Assert.Equal([SampleLabel.Normal, SampleLabel.Anomalous, SampleLabel.Anomalous], split.Test.Select(s => s.Label));
        Assert.Equal(["good", "defect", "defect"], split.Test.Select(s => s.DefectType));
        Assert.Equal(new MaskFile(_tree.Path("Class1/Test/Label/0577_label.PNG")), split.Test[1].Mask);
        Assert.Null(split.Test[2].Mask); // flagged defective without a label image: image-level label only
        Assert.True(split.Test[1].Load().Mask.Data[0]);

        var defect = Assert.Single(dataset.LoadTrainingDefects("Class1"));
        Assert.Equal((_tree.Path("Class1/Train/0003.PNG"), SampleLabel.Anomalous), (defect.SourcePath, defect.Label));
        Assert.Equal(new MaskFile(_tree.Path("Class1/Train/Label/0003_label.PNG")), defect.Mask);

        Assert.Equal(_tree.Path("Class2/Class2/Train/0001.PNG"), Assert.Single(dataset.Load("Class2").Train).SourcePath);
        Assert.IsType<DagmDataset>(DatasetCatalog.Open("dagm:" + _tree.Root));
    }

    [Fact]
    public void MissingLabelsFileIsNamed()
    {
        Tree();
        File.Delete(_tree.Path("Class1/Test/Label/Labels.txt"));
        Assert.Contains(_tree.Path("Class1/Test/Label/Labels.txt"), Assert.Throws<VigilInputException>(() => new DagmDataset(_tree.Root).Load("Class1")).Message);
    }

    [Theory]
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n3\t2\t0578.PNG\t0\t0\n", "line 4")] // flag 2
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n3\t1\n", "line 4")] // too few fields
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n3\t1\t0579.PNG\t0\t0\n", "0579.PNG")] // image missing
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n", "0578.PNG")] // image not listed
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n3\t1\t0578.PNG\t0\t0578_label.PNG\n", "0578_label.PNG")] // label image missing
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n2\t0\t0577.PNG\t0\t0\n3\t1\t0578.PNG\t0\t0\n", "0577_label.PNG")] // flagged 0 but has a label image
    [InlineData("1\n1\t0\t0576.PNG\t0\t0\n1\t0\t0576.PNG\t0\t0\n2\t1\t0577.PNG\t0\t0577_label.PNG\n3\t1\t0578.PNG\t0\t0\n", "second time")]
    public void BadLabelLinesAreNamed(string labels, string named)
    {
        Tree();
        var path = _tree.Text("Class1/Test/Label/Labels.txt", labels);
        var e = Assert.Throws<VigilInputException>(() => new DagmDataset(_tree.Root).Load("Class1"));
        Assert.Contains(named, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void RootWithoutClassesPointsAtTheParentOfASingleClass()
    {
        Tree();
        var e = Assert.Throws<VigilInputException>(() => new DagmDataset(_tree.Path("Class1")));
        Assert.Contains("single class", e.Message);
        Assert.Contains(_tree.Root, e.Message);
    }
}
