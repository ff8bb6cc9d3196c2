using OpenCvSharp;
using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

public class SProTests
{
    private static readonly LocoDefectConfig WholeArea = new("missing", 255, 1.0, true);
    private static readonly LocoDefectConfig OnePixel = new("extra", 100, 1, false);

    /// <summary>
    /// Anomalous image 1x4: channel A = {0,1} (saturation 2), channel B = {1,2,3} (absolute 1 → saturates after one
    /// pixel); they overlap at pixel 1. Good image 1x4 gives the 4 normal pixels. Descending scores:
    /// 0.95 N → (.25, 0); 0.9 A → (.25, .25); 0.8 A+B → (.25, 1); 0.4 N → (.5, 1); ...; 0.05 N → (1, 1).
    /// AUC to 0.3 = 1·0.05 / 0.3; to 1 = 0.75; to 0.01 = 0. Without saturation B would only reach 1/3 at 0.8.
    /// </summary>
    [Fact]
    public void SaturatedOverlapByHand()
    {
        var anomalous = new LocoGroundTruth(1, 4, [new(Mask(1, 4, 0, 1), WholeArea), new(Mask(1, 4, 1, 2, 3), OnePixel)]);
        var maps = new[] { new ScoreMap(1, 4, [0.9f, 0.8f, 0.1f, 0.2f]), new ScoreMap(1, 4, [0.95f, 0.4f, 0.3f, 0.05f]) };
        var result = SPro.Compute(maps, [anomalous, LocoGroundTruth.Good(1, 4)]);
        Assert.Equal(0.0, result.AucSpro[0.01], 12);
        Assert.Equal(0.05 / 0.3, result.AucSpro[0.3], 12);
        Assert.Equal(0.75, result.AucSpro[1.0], 12);
        Assert.Equal(SPro.LocoFprLimits, result.AucSpro.Keys.Order());
    }

    /// <summary>
    /// Groups of one pass see only their own images: each equals the group computed alone (the hand-checked case
    /// above is group 0), and an image in no group is not read (its NaN map would throw).
    /// </summary>
    [Fact]
    public void GroupsEqualTheirImagesComputedAlone()
    {
        var anomalous = new LocoGroundTruth(1, 4, [new(Mask(1, 4, 0, 1), WholeArea), new(Mask(1, 4, 1, 2, 3), OnePixel)]);
        var other = new LocoGroundTruth(1, 4, [new(Mask(1, 4, 3), WholeArea)]);
        var maps = new[]
        {
            new ScoreMap(1, 4, [0.9f, 0.8f, 0.1f, 0.2f]), new ScoreMap(1, 4, [0.95f, 0.4f, 0.3f, 0.05f]),
            new ScoreMap(1, 4, [0.7f, 0.6f, 0.5f, 0.35f]), new ScoreMap(1, 4, [float.NaN, 0f, 0f, 0f]),
        };
        var truths = new[] { anomalous, LocoGroundTruth.Good(1, 4), other, LocoGroundTruth.Good(1, 4) };
        int[][] groups = [[0, 1], [1, 2], [0, 1, 2]];
        var grouped = SPro.Compute(maps, truths, groups);
        Assert.Equal(0.75, grouped[0].AucSpro[1.0], 12);
        for (int g = 0; g < groups.Length; g++)
        {
            var alone = SPro.Compute(groups[g].Select(i => maps[i]).ToArray(), groups[g].Select(i => truths[i]).ToArray());
            foreach (var (limit, value) in alone.AucSpro) Assert.Equal(value, grouped[g].AucSpro[limit], 12);
        }
        Assert.NotEqual(grouped[0].AucSpro[0.3], grouped[2].AucSpro[0.3]);
        Assert.Contains("group 1", Assert.Throws<VigilInputException>(() => SPro.Compute(maps, truths, [[0, 1], [1]])).Message);
    }

    [Fact]
    public void SaturationAreaFollowsTheOfficialRule()
    {
        Assert.Equal(1, new LocoDefectConfig("half", 1, 0.5, true).SaturationArea(3)); // int(1.5)
        Assert.Equal(10, new LocoDefectConfig("abs", 2, 25, false).SaturationArea(10)); // min(25, 10)
        Assert.Equal(25, new LocoDefectConfig("abs", 2, 25, false).SaturationArea(400));
    }

    [Fact]
    public void MapsAreResizedToTheGroundTruth()
    {
        var truth = new LocoGroundTruth(2, 2, [new(Mask(2, 2, 0), WholeArea)]);
        var map = new ScoreMap(1, 1, [0.5f]);
        // A constant map ties everything: the curve jumps from (0,0) to (1,1); area to 1 = 0.5.
        Assert.Equal(0.5, SPro.Compute([map], [truth], [1.0]).AucSpro[1.0], 12);
    }

    [Fact]
    public void DegenerateInputsAreRejected()
    {
        var good = LocoGroundTruth.Good(1, 2);
        var map = new ScoreMap(1, 2, [0.1f, 0.2f]);
        Assert.Contains("has a defect channel", Assert.Throws<VigilInputException>(() => SPro.Compute([map], [good])).Message);
        Assert.Throws<ArgumentException>(() => SPro.Compute([map, map], [good]));
        Assert.Throws<ArgumentException>(() => SPro.Compute([], []));
        var allDefect = new LocoGroundTruth(1, 2, [new(Mask(1, 2, 0, 1), WholeArea)]);
        Assert.Contains("FPR", Assert.Throws<VigilInputException>(() => SPro.Compute([map], [allDefect])).Message);
        var wrongShape = new LocoGroundTruth(1, 2, [new(Mask(2, 1, 0), WholeArea)]);
        Assert.Contains("is 2x1, not 1x2", Assert.Throws<ArgumentException>(() => SPro.Compute([map], [wrongShape])).Message);
        var nan = new ScoreMap(1, 2, [float.NaN, 0.2f]);
        Assert.Contains("#0", Assert.Throws<VigilInputException>(() => SPro.Compute([nan], [allDefect])).Message);
    }

    [Fact]
    public void DefectsConfigIsParsedAndValidated()
    {
        var config = LocoDefectsConfig.Parse("""
            [{"defect_name": "missing_box", "pixel_value": 255, "saturation_threshold": 1.0, "relative_saturation": true},
             {"defect_name": "extra_item", "pixel_value": 7, "saturation_threshold": 2000, "relative_saturation": false}]
            """, "test.json");
        Assert.Equal(
            new[] { new LocoDefectConfig("missing_box", 255, 1.0, true), new LocoDefectConfig("extra_item", 7, 2000, false) },
            config.Defects.OrderByDescending(d => d.PixelValue));
        Assert.Contains("entry 0", Assert.Throws<VigilInputException>(() => LocoDefectsConfig.Parse(
            """[{"defect_name": "x", "pixel_value": 3, "relative_saturation": true}]""", "a.json")).Message);
        Assert.Contains("(0, 1]", Assert.Throws<VigilInputException>(() => LocoDefectsConfig.Parse(
            """[{"defect_name": "x", "pixel_value": 3, "saturation_threshold": 1.5, "relative_saturation": true}]""", "a.json")).Message);
        Assert.Contains("whole pixel count", Assert.Throws<VigilInputException>(() => LocoDefectsConfig.Parse(
            """[{"defect_name": "x", "pixel_value": 3, "saturation_threshold": 2.5, "relative_saturation": false}]""", "a.json")).Message);
        Assert.Contains("b.json", Assert.Throws<VigilInputException>(() => LocoDefectsConfig.Parse("{", "b.json")).Message);
        Assert.Throws<VigilInputException>(() => LocoDefectsConfig.Load("/nonexistent/defects_config.json"));
    }

    [Fact]
    public void GroundTruthDirectoryIsReadOneChannelPerPng()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-loco-").FullName;
        try
        {
            var config = new LocoDefectsConfig([WholeArea, OnePixel]);
            using (var a = new Mat(2, 3, MatType.CV_8UC1, Scalar.All(0))) { a.Set(0, 1, (byte)255); Cv2.ImWrite(Path.Combine(dir, "000.png"), a); }
            using (var b = new Mat(2, 3, MatType.CV_8UC1, Scalar.All(0))) { b.Set(1, 2, (byte)100); b.Set(1, 1, (byte)100); Cv2.ImWrite(Path.Combine(dir, "001.png"), b); }
            var truth = config.ReadGroundTruth(dir);
            Assert.Equal((2, 3, 2), (truth.Height, truth.Width, truth.Channels.Count));
            Assert.Equal(WholeArea, truth.Channels[0].Defect);
            Assert.Equal([false, true, false, false, false, false], truth.Channels[0].Mask.Data);
            Assert.Equal(OnePixel, truth.Channels[1].Defect);
            Assert.Equal(2, truth.Channels[1].Mask.CountDefective());

            using (var c = new Mat(2, 3, MatType.CV_8UC1, Scalar.All(0))) { c.Set(0, 0, (byte)9); Cv2.ImWrite(Path.Combine(dir, "002.png"), c); }
            Assert.Contains("pixel value 9", Assert.Throws<VigilInputException>(() => config.ReadGroundTruth(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
