using Vigil.Data;
using Vigil.Settings;

namespace Vigil.Tests.Settings;

public class NoisyLabelsTests
{
    // Injected = min(⌊ratio × training images⌋, ⌊0.75 × anomalies⌋).
    [Theory]
    [InlineData(20, 40, 0.15, 3, false)]
    [InlineData(200, 60, 0.05, 10, false)]
    [InlineData(100, 40, 0.29, 29, false)] // 0.29 × 100 is 28.999999999999996 in doubles: still 29
    [InlineData(9, 40, 0.1, 0, false)]      // ⌊0.9⌋ = 0: nothing injected
    [InlineData(100, 10, 0.2, 7, true)]     // 20 wanted, ⌊7.5⌋ allowed
    public void InjectsTheTruncatedRatioOfTheTrainingSetCappedAtThreeQuartersOfTheAnomalies(int train, int anomalies, double ratio, int expected, bool capHit)
    {
        var split = Splits.Make(train, 8, anomalies);
        var result = new NoisyLabels(ratio).Apply(split, 2);
        Assert.Equal(train + expected, result.Train.Count);
        Assert.Equal(8 + anomalies - expected, result.Test.Count);
        Assert.Equal(anomalies - expected, result.Split.TestAnomalousCount);
        Assert.Equal(expected, result.Notes.Chosen.Count);
        Assert.Equal(capHit, result.Notes.CapHit);
        Splits.AssertDisjoint(result.Split);
    }

    [Fact]
    public void InjectedImagesAreLabelledNormalButStayAuditable()
    {
        var split = Splits.Make(40, 8, 20);
        var result = new NoisyLabels(0.2).Apply(split, 5);
        Assert.Equal(0, result.TrainAnomalousCount); // the point: the label says normal
        var injected = result.Train.Where(s => s.DefectType != "good").ToList();
        Assert.Equal(8, injected.Count);
        Assert.All(injected, s => Assert.Null(s.Mask));
        Assert.Equal(Splits.Ids(injected), result.Notes.Chosen.ToHashSet());
        var originals = split.Test.Where(s => result.Notes.Chosen.Contains(s.Id)).ToList();
        Assert.Equal(8, originals.Count);
        Assert.All(originals, s => Assert.True(s.IsAnomalous));
    }

    [Fact]
    public void OverlapKeepsTheInjectedImagesInTheTestSet()
    {
        var split = Splits.Make(40, 8, 20);
        var result = new NoisyLabels(0.2, Overlap: true).Apply(split, 5);
        Assert.Equal(split.Test, result.Test);
        Assert.Equal(48, result.Train.Count);
        Assert.Equal(result.Notes.Chosen.ToHashSet(), Splits.Ids(result.Train).Intersect(Splits.Ids(result.Test)).ToHashSet());
        // Same seed, same draw as without overlap: overlap only decides whether they also stay in test.
        Assert.Equal(new NoisyLabels(0.2).Apply(split, 5).Notes.Chosen, result.Notes.Chosen);
    }

    [Fact]
    public void SameSeedSameInjectionOtherSeedsDiffer()
    {
        var split = Splits.Make(100, 8, 40);
        Assert.Equal(new NoisyLabels(0.15).Apply(split, 9).Split.Train, new NoisyLabels(0.15).Apply(split, 9).Split.Train);
        var draws = Enumerable.Range(0, 5).Select(seed => string.Join(",", new NoisyLabels(0.15).Apply(split, seed).Notes.Chosen)).ToHashSet();
        Assert.Equal(5, draws.Count);
    }
}
