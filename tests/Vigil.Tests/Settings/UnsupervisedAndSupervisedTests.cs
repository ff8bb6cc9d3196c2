using Vigil.Data;
using Vigil.Settings;

namespace Vigil.Tests.Settings;

public class UnsupervisedAndSupervisedTests
{
    [Fact]
    public void UnsupervisedIsTheIdentity()
    {
        var split = Splits.Make(12, 5, 7);
        var result = new Unsupervised().Apply(split, 3);
        Assert.Equal(split.Train, result.Train);
        Assert.Equal(split.Test, result.Test);
        Assert.Empty(result.Notes.Chosen);
        Assert.Equal(("unsupervised", 12, 12), (result.Notes.Setting, result.Notes.TrainCount, result.Notes.TestCount));
    }

    // Moved = min(n, ⌊0.75 × anomalies⌋).
    [Theory]
    [InlineData(17, 10, 10, false)]
    [InlineData(12, 9, 9, false)]   // cap ⌊9⌋ = 9 exactly: not cut
    [InlineData(10, 10, 7, true)]   // ⌊7.5⌋
    [InlineData(4, 10, 3, true)]
    [InlineData(1, 10, 0, true)]    // ⌊0.75⌋ = 0: a single anomaly is never moved
    [InlineData(0, 10, 0, true)]
    public void SupervisedMovesMinOfNAndThreeQuartersOfTheAnomalies(int anomalies, int n, int expected, bool capHit)
    {
        var split = Splits.Make(20, 6, anomalies);
        var result = new FullySupervised(n).Apply(split, 1);
        Assert.Equal(20 + expected, result.Train.Count);
        Assert.Equal(6 + anomalies - expected, result.Test.Count);
        Assert.Equal(expected, result.TrainAnomalousCount);
        Assert.Equal(6, result.Split.TestNormalCount);
        Assert.Equal(capHit, result.Notes.CapHit);
        Assert.Equal(expected, result.Notes.Chosen.Count);
        Splits.AssertDisjoint(result.Split);
    }

    [Fact]
    public void MovedAnomaliesKeepLabelAndMaskAndLeaveTheTestSet()
    {
        var split = Splits.Make(20, 6, 15);
        var result = new FullySupervised(10).Apply(split, 4);
        var moved = result.Train.Where(s => s.IsAnomalous).ToList();
        Assert.Equal(10, moved.Count);
        var originals = split.Test.Where(s => Splits.Ids(moved).Contains(s.Id)).ToList();
        Assert.Equal(originals, moved); // the very same samples: label, defect type and mask unchanged
        Assert.All(moved, s => Assert.NotNull(s.Mask));
        Assert.Equal(Splits.Ids(moved), result.Notes.Chosen.ToHashSet());
        Assert.Equal(split.Train, result.Train.Take(20)); // the normal training images are all still there
        Assert.Equal(split.Train, result.NormalTrainOnly().Train);
        Assert.Equal(result.Test, result.NormalTrainOnly().Test);
    }

    [Fact]
    public void SameSeedSameDrawWhateverTheOrderAndOtherSeedsDiffer()
    {
        var split = Splits.Make(20, 6, 30);
        var a = new FullySupervised(10).Apply(split, 7);
        var reordered = split with { Test = split.Test.Reverse().ToList() };
        var b = new FullySupervised(10).Apply(reordered, 7);
        Assert.Equal(a.Notes.Chosen, b.Notes.Chosen);
        Assert.Equal(Splits.Ids(a.Test), Splits.Ids(b.Test));
        var draws = Enumerable.Range(0, 5).Select(seed => string.Join(",", new FullySupervised(10).Apply(split, seed).Notes.Chosen)).ToHashSet();
        Assert.Equal(5, draws.Count);
    }
}
