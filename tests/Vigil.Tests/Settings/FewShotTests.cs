using Vigil.Data;
using Vigil.Imaging;
using Vigil.Settings;

namespace Vigil.Tests.Settings;

public class FewShotTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void KeepsKNormalTrainingImagesAndTheWholeTestSet(int k)
    {
        var split = Splits.Make(30, 6, 9);
        var result = new FewShot(k).Apply(split, 3);
        Assert.Equal(k, result.Train.Count);
        Assert.Equal(k, Splits.Ids(result.Train).Count);
        Assert.Subset(Splits.Ids(split.Train), Splits.Ids(result.Train));
        Assert.All(result.Train, s => Assert.Null(s.Augmentation));
        Assert.Equal(split.Test, result.Test);
        Assert.False(result.Notes.CapHit);
        Splits.AssertDisjoint(result.Split);
    }

    [Fact]
    public void FewerTrainingImagesThanKKeepsThemAllAndSaysSo()
    {
        var split = Splits.Make(5, 6, 9);
        var result = new FewShot(8).Apply(split, 3);
        Assert.Equal(Splits.Ids(split.Train), Splits.Ids(result.Train));
        Assert.True(result.Notes.CapHit);
        Assert.Contains("8 requested, only 5 available", result.Notes.Summary);
    }

    [Fact]
    public void EachKeptImageIsFollowedByMVariantsWithDistinctIds()
    {
        var split = Splits.Make(30, 6, 9);
        var result = new FewShot(4, 3, AugmentationKinds.Rotation).Apply(split, 11);
        Assert.Equal(4 * (1 + 3), result.Train.Count);
        Assert.Equal(16, Splits.Ids(result.Train).Count);
        foreach (var group in result.Train.GroupBy(s => s.SourcePath))
        {
            Assert.Equal([0, 1, 2, 3], group.Select(s => s.Variant));
            // 360·i/(m+1) degrees: a quarter turn per variant when m = 3.
            Assert.Equal([90.0, 180.0, 270.0], group.Skip(1).Select(s => s.Augmentation!.RotationDegrees));
            Assert.All(group, s => Assert.False(s.IsAnomalous));
        }
        Assert.Equal(result.Train.Where(s => s.Variant == 0).Select(s => s.Id), result.Notes.Chosen);
        Assert.Equal(16, result.Notes.TrainCount);
        Splits.AssertDisjoint(result.Split);
    }

    [Fact]
    public void SameSeedSameImagesAndAugmentationsOtherSeedsDiffer()
    {
        var split = Splits.Make(30, 6, 9);
        var setting = new FewShot(4, 2, AugmentationKinds.Translate | AugmentationKinds.ColorJitter);
        Assert.Equal(setting.Apply(split, 5).Train, setting.Apply(split, 5).Train); // records: augmentation parameters included
        var draws = Enumerable.Range(0, 5).Select(seed => string.Join(",", setting.Apply(split, seed).Notes.Chosen)).ToHashSet();
        Assert.Equal(5, draws.Count);
        // Two seeds that happened to keep the same images would still get different random shifts.
        var shifts = Enumerable.Range(0, 5).Select(seed => setting.Apply(split, seed).Train[1].Augmentation!.TranslateX).ToHashSet();
        Assert.Equal(5, shifts.Count);
    }

    [Fact]
    public void ScheduleSpreadsStrengthsLinearlyOverTheVariants()
    {
        const int m = 4;
        var all = (AugmentationKinds)63;
        for (int i = 1; i <= m; i++)
        {
            var a = AugmentationSchedule.Variant(all, i, m, (ulong)i * 31);
            double s = 0.5 * i / m;
            Assert.Equal(360.0 * i / (m + 1), a.RotationDegrees, 12);
            Assert.Equal(1 - s, a.Scale, 12);
            Assert.InRange(Math.Abs(a.TranslateX), 0, s);
            Assert.InRange(Math.Abs(a.TranslateY), 0, s);
            foreach (var f in new[] { a.Brightness, a.Contrast, a.Saturation }) Assert.InRange(f, 1 - s, 1 + s);
            var p = a.Perspective!;
            foreach (var o in new[] { p.TopLeftX, p.TopLeftY, p.TopRightX, p.TopRightY, p.BottomRightX, p.BottomRightY, p.BottomLeftX, p.BottomLeftY })
                Assert.InRange(o, 0, s / 2);
        }
        Assert.Equal((true, false), Flips(1));
        Assert.Equal((false, true), Flips(2));
        Assert.Equal((true, true), Flips(3));
        static (bool, bool) Flips(int i)
        {
            var a = AugmentationSchedule.Variant(AugmentationKinds.Flip, i, 4, 0);
            return (a.FlipHorizontal, a.FlipVertical);
        }
    }

    [Fact]
    public void OnlyTheChosenKindsChangeTheImage()
    {
        var a = AugmentationSchedule.Variant(AugmentationKinds.Rotation, 1, 2, 99);
        Assert.Equal(new Augmentation(1, RotationDegrees: 120), a);
    }
}
