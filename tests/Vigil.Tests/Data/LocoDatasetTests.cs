using Vigil.Data;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Tests.Data;

public class LocoDatasetTests : IDisposable
{
    private const int H = 6, W = 8;
    private const string Config = """
        [{"defect_name": "missing_box", "pixel_value": 255, "saturation_threshold": 1.0, "relative_saturation": true},
         {"defect_name": "extra_item", "pixel_value": 7, "saturation_threshold": 3, "relative_saturation": false}]
        """;
    private static readonly LocoDefectConfig MissingBox = new("missing_box", 255, 1.0, true);
    private static readonly LocoDefectConfig ExtraItem = new("extra_item", 7, 3, false);

    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    /// <summary>
    /// Category "box" with every quirk of the official layout: its own defects_config.json, a validation split, a logical
    /// anomaly with two overlapping defect channels, good test images (which have no ground-truth folder), hidden files.
    /// Category "bag" has no config of its own (the root's is used), an empty validation/good and empty structural folders.
    /// </summary>
    private void Tree()
    {
        _tree.Text("box/defects_config.json", Config);
        _tree.Image("box/train/good/000.png");
        _tree.Image("box/train/good/001.png");
        _tree.Image("box/validation/good/000.png");
        _tree.Image("box/validation/good/001.png");
        _tree.Image("box/validation/good/002.png");
        _tree.Image("box/test/good/000.png");
        _tree.Image("box/test/good/001.png");
        _tree.Image("box/test/logical_anomalies/000.png");
        _tree.Image("box/test/logical_anomalies/001.png");
        _tree.Image("box/test/structural_anomalies/000.png");
        _tree.Channel("box/ground_truth/logical_anomalies/000/000.png", H, W, 255, 0, 1, 2);
        _tree.Channel("box/ground_truth/logical_anomalies/000/001.png", H, W, 7, 2, 3, 9, 10);
        _tree.Channel("box/ground_truth/logical_anomalies/001/000.png", H, W, 7, 47);
        _tree.Channel("box/ground_truth/structural_anomalies/000/000.png", H, W, 255, 20, 21);
        _tree.Text("box/ground_truth/logical_anomalies/.DS_Store", "finder metadata");
        _tree.Folder("box/ground_truth/.hidden");
        _tree.Text("box/license.txt", "not an image");

        _tree.Text("defects_config.json", Config);
        _tree.Image("bag/train/good/000.png");
        _tree.Folder("bag/validation/good");
        _tree.Image("bag/test/good/000.png");
        _tree.Image("bag/test/logical_anomalies/000.png");
        _tree.Folder("bag/test/structural_anomalies");
        _tree.Folder("bag/ground_truth/structural_anomalies");
        _tree.Channel("bag/ground_truth/logical_anomalies/000/000.png", H, W, 7, 5);
        _tree.Text("readme.txt", "MVTec LOCO AD");
    }

    [Fact]
    public void ReadsSplitsKindsAndPerDefectChannels()
    {
        Tree();
        var dataset = new LocoDataset(_tree.Root);
        Assert.Equal(["bag", "box"], dataset.Categories);
        var split = dataset.Load("box");
        Assert.Equal(("loco", "box"), (split.Dataset, split.Category));
        Assert.Equal(2, split.Train.Count);
        Assert.Equal([_tree.Path("box/validation/good/000.png"), _tree.Path("box/validation/good/001.png"), _tree.Path("box/validation/good/002.png")],
            split.Validation.Select(s => s.SourcePath));
        Assert.All(split.Train.Concat(split.Validation), s => Assert.Equal((SampleLabel.Normal, "good", (MaskSource?)null), (s.Label, s.DefectType, s.Mask)));
        Assert.Equal(["good", "good", "logical_anomalies", "logical_anomalies", "structural_anomalies"], split.Test.Select(s => s.DefectType));
        Assert.Equal((2, 3), (split.TestNormalCount, split.TestAnomalousCount));

        var twoDefects = split.Test[2];
        var mask = Assert.IsType<LocoMask>(twoDefects.Mask);
        Assert.Equal(_tree.Path("box/ground_truth/logical_anomalies/000"), mask.Folder);
        var truth = mask.LoadGroundTruth();
        Assert.Equal((H, W), (truth.Height, truth.Width));
        Assert.Equal([MissingBox, ExtraItem], truth.Channels.Select(c => c.Defect));
        Assert.Equal([0, 1, 2], Defective(truth.Channels[0].Mask));
        Assert.Equal([2, 3, 9, 10], Defective(truth.Channels[1].Mask));
        // Pixel metrics see the union of the channels (pixel 2 lies in both).
        Assert.Equal([0, 1, 2, 3, 9, 10], Defective(twoDefects.LoadMask(H, W)));
        Assert.Equal([47], Defective(split.Test[3].Load().Mask));
        Assert.Equal([20, 21], Defective(split.Test[4].Load().Mask));
    }

    [Fact]
    public void ConfigAtTheRootServesCategoriesWithoutTheirOwnAndEmptyFoldersAreFine()
    {
        Tree();
        var split = new LocoDataset(_tree.Root).Load("bag");
        Assert.Empty(split.Validation);
        Assert.Equal(["good", "logical_anomalies"], split.Test.Select(s => s.DefectType));
        var mask = Assert.IsType<LocoMask>(split.Test[1].Mask);
        Assert.Equal(_tree.Path("defects_config.json"), mask.Config.Source);
        Assert.Equal(ExtraItem, Assert.Single(mask.LoadGroundTruth().Channels).Defect);
        Assert.Equal(_tree.Path("box/defects_config.json"),
            Assert.IsType<LocoMask>(new LocoDataset(_tree.Root).Load("box").Test[2].Mask).Config.Source);
    }

    [Fact]
    public void ValidationImagesAreDecodedByTheSplitCheck()
    {
        Tree();
        var split = new LocoDataset(_tree.Root).Load("box");
        Assert.Empty(DatasetValidation.Check(split, skipCorrupt: false).Skipped);
        var corrupt = _tree.Text("box/validation/good/001.png", "not a png");
        var (clean, skipped, _) = DatasetValidation.Check(split, skipCorrupt: true);
        Assert.Equal(corrupt, Assert.Single(skipped).Sample.SourcePath);
        Assert.Equal(2, clean.Validation.Count);
    }

    [Fact]
    public void MaskPixelValueMissingFromTheConfigNamesTheMaskAndTheConfig()
    {
        Tree();
        var bad = _tree.Channel("box/ground_truth/logical_anomalies/001/001.png", H, W, 9, 40);
        var split = new LocoDataset(_tree.Root).Load("box");
        var e = Assert.Throws<VigilInputException>(() => DatasetValidation.Check(split, skipCorrupt: false));
        Assert.Contains(bad, e.Message);
        Assert.Contains("pixel value 9", e.Message);
        Assert.Contains(_tree.Path("box/defects_config.json"), e.Message);
    }

    [Fact]
    public void MissingConfigNamesBothPlacesLookedIn()
    {
        Tree();
        File.Delete(_tree.Path("defects_config.json"));
        var e = Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("bag"));
        Assert.Contains(_tree.Path("bag/defects_config.json"), e.Message);
        Assert.Contains(_tree.Path("defects_config.json"), e.Message);
        new LocoDataset(_tree.Root).Load("box"); // has its own
    }

    [Fact]
    public void GroundTruthFolderWithoutItsImageIsNamed()
    {
        Tree();
        var orphan = _tree.Channel("box/ground_truth/structural_anomalies/007/000.png", H, W, 255, 1);
        var e = Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("box"));
        Assert.Contains(Path.GetDirectoryName(orphan)!, e.Message);
        Assert.Contains("has no image", e.Message);
    }

    [Fact]
    public void AnomalousImageWithoutGroundTruthFolderIsNamed()
    {
        Tree();
        var image = _tree.Image("box/test/structural_anomalies/001.png");
        var e = Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("box"));
        Assert.Contains(image, e.Message);
        Assert.Contains(_tree.Path("box/ground_truth/structural_anomalies/001"), e.Message);
    }

    [Fact]
    public void EmptyGroundTruthFolderAndUnknownFoldersAreNamed()
    {
        Tree();
        _tree.Image("box/test/structural_anomalies/001.png");
        var empty = _tree.Folder("box/ground_truth/structural_anomalies/001");
        Assert.Contains(empty, Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("box")).Message);
        Directory.Delete(empty);
        File.Delete(_tree.Path("box/test/structural_anomalies/001.png"));

        var unknownTest = _tree.Folder("box/test/scratch");
        Assert.Contains(unknownTest, Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("box")).Message);
        Directory.Delete(unknownTest);
        var unknownTruth = _tree.Folder("box/ground_truth/good");
        Assert.Contains(unknownTruth, Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Root).Load("box")).Message);
    }

    [Fact]
    public void MaskOfAnotherSizeThanItsImageIsNamed()
    {
        Tree();
        _tree.Image("box/test/structural_anomalies/000.png", height: 5, width: 8);
        var split = new LocoDataset(_tree.Root).Load("box");
        var e = Assert.Throws<VigilInputException>(() => split.Test[4].Load());
        Assert.Contains(_tree.Path("box/ground_truth/structural_anomalies/000"), e.Message);
    }

    [Fact]
    public void GroundTruthOfTestSamplesForTheEvaluation()
    {
        Tree();
        var split = new LocoDataset(_tree.Root).Load("box");
        Assert.Equal([LocoImageKind.Good, LocoImageKind.Good, LocoImageKind.Logical, LocoImageKind.Logical, LocoImageKind.Structural],
            split.Test.Select(LocoDataset.KindOf));
        var good = LocoDataset.GroundTruthOf(split.Test[0]);
        Assert.Equal((H, W, 0), (good.Height, good.Width, good.Channels.Count)); // size read from the image
        Assert.Equal(2, LocoDataset.GroundTruthOf(split.Test[2]).Channels.Count);

        var mvtecDefect = new Sample(split.Test[2].SourcePath, SampleLabel.Anomalous, "crack", "mvtec", "box", new MaskFile("m.png"));
        Assert.Contains("not an MVTec LOCO test image", Assert.Throws<VigilInputException>(() => LocoDataset.KindOf(mvtecDefect)).Message);
        Assert.Contains("no MVTec LOCO ground-truth folder", Assert.Throws<VigilInputException>(() => LocoDataset.GroundTruthOf(mvtecDefect)).Message);
    }

    [Fact]
    public void CatalogOpensLocoAndDagm()
    {
        Tree();
        Assert.IsType<LocoDataset>(DatasetCatalog.Open("loco:" + _tree.Root));
        Assert.Contains(DatasetCatalog.Known, e => e.Name == "loco" && e.Usage.Contains("MVTec LOCO AD"));
        Assert.Contains(DatasetCatalog.Known, e => e.Name == "dagm" && e.Usage.Contains("DAGM 2007"));
        Assert.Contains("needs a path", Assert.Throws<VigilInputException>(() => DatasetCatalog.Open("loco")).Message);
    }

    [Fact]
    public void RootWithoutCategoriesIsAnError()
    {
        _tree.Image("train/good/000.png");
        Assert.Contains("No category", Assert.Throws<VigilInputException>(() => new LocoDataset(_tree.Path("train"))).Message);
    }

    private static int[] Defective(BinaryMask mask) => Enumerable.Range(0, mask.Data.Length).Where(i => mask.Data[i]).ToArray();
}
