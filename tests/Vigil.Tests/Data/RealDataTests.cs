using Vigil.Data;
using OpenCvSharp;

namespace Vigil.Tests.Data;

/// <summary>The loaders on the real MTD and KolektorSDD in shared/ (counts from shared/README.md); lists files, decodes only a few.</summary>
public class RealDataTests
{
    [Fact]
    public void MtdHas952NormalAnd392DefectsAllTestedWithMasksOfTheirImageSize()
    {
        var root = SharedData.RequireDirectory("data", "mtd");
        var split = new MtdDataset(root).Load("mtd");
        Assert.Equal(952, split.Train.Count + split.TestNormalCount);
        Assert.Equal(392, split.TestAnomalousCount);
        Assert.Equal((int)Math.Round(0.8 * 952), split.Train.Count);
        var byType = split.Test.Where(s => s.IsAnomalous).GroupBy(s => s.DefectType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["Blowhole"] = 115, ["Break"] = 85, ["Crack"] = 57, ["Fray"] = 32, ["Uneven"] = 103 }, byType);
        Assert.All(split.Test.Where(s => s.IsAnomalous), s => Assert.IsType<MaskFile>(s.Mask));
        // One defect of each type decoded: mask at the image's size (checked by Load) and non-empty.
        foreach (var sample in split.Test.Where(s => s.IsAnomalous).GroupBy(s => s.DefectType).Select(g => g.First()))
            Assert.True(sample.Load().Mask.CountDefective() > 0, sample.SourcePath);
        // Every defect mask counted straight with OpenCV (8-bit grayscale PNGs, no image decoding): all annotate pixels
        // except four "Uneven" images whose published masks are blank (a property of the dataset, see docs/datasets.md).
        var blank = split.Test.Where(s => s.IsAnomalous).Where(s =>
        {
            using var mask = Cv2.ImRead(((MaskFile)s.Mask!).Path, ImreadModes.Grayscale);
            return Cv2.CountNonZero(mask) == 0;
        }).Select(s => Path.GetFileName(s.SourcePath));
        Assert.Equal(["exp3_num_45042.jpg", "exp4_num_124690.jpg", "exp4_num_352527.jpg", "exp4_num_45057.jpg"], blank);
    }

    [Fact]
    public void KolektorHas347NormalAnd52DefectiveWithNonEmptyRasterisedMasks()
    {
        var root = SharedData.RequireDirectory("data", "ksdd");
        var split = new KolektorDataset(root).Load("ksdd");
        Assert.Equal(347, split.Train.Count + split.TestNormalCount);
        Assert.Equal(52, split.TestAnomalousCount);
        // Every label's polygons, rasterised at the nominal 1247x500 size, cover pixels; a few images (their heights vary
        // around 1250 px) are decoded to check the mask comes out at each image's own size.
        var defects = split.Test.Where(s => s.IsAnomalous).ToList();
        Assert.All(defects, s => Assert.True(s.LoadMask(1247, 500).CountDefective() > 0, s.SourcePath));
        foreach (var sample in defects.Take(3))
        {
            var (image, mask) = sample.Load();
            Assert.Equal((image.Height, image.Width), (mask.Height, mask.Width));
            Assert.True(mask.CountDefective() > 0, sample.SourcePath);
        }
    }

    [Theory]
    [InlineData("mtd")]
    [InlineData("ksdd")]
    public void SplitIsDeterministicPerSeedDisjointAndDiffersAcrossSeeds(string name)
    {
        var root = SharedData.RequireDirectory("data", name);
        DatasetSplit Load(int seed) => (name == "mtd" ? (IDataset)new MtdDataset(root, new SplitOptions(0.8, seed)) : new KolektorDataset(root, new SplitOptions(0.8, seed))).Load(name);
        var a = Load(0);
        var again = Load(0);
        var other = Load(1);
        Assert.Equal(a.Train.Select(s => s.SourcePath), again.Train.Select(s => s.SourcePath));
        Assert.Equal(a.Test.Select(s => s.SourcePath), again.Test.Select(s => s.SourcePath));
        Assert.NotEqual(a.Train.Select(s => s.SourcePath), other.Train.Select(s => s.SourcePath));
        Assert.Empty(a.Train.Select(s => s.SourcePath).Intersect(a.Test.Select(s => s.SourcePath)));
        Assert.Equal(a.Train.Count + a.Test.Count, a.Train.Concat(a.Test).Select(s => s.SourcePath).Distinct().Count());
    }
}
