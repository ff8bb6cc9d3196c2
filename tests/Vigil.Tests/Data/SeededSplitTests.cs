using Vigil.Data;
using Vigil.Randomness;

namespace Vigil.Tests.Data;

public class SeededSplitTests
{
    [Fact]
    public void GeneratorMatchesSplitMix64ReferenceOutputsForSeedZero()
    {
        // Published first outputs of Vigna's splitmix64.c with state 0.
        var rng = new SeededRandom(0);
        Assert.Equal([0xE220A8397B1DCDAFUL, 0x6E789E6AA1B965F4UL, 0x06C45D188009454FUL, 0xF88BB8A8724C81ECUL],
            new[] { rng.NextUInt64(), rng.NextUInt64(), rng.NextUInt64(), rng.NextUInt64() });
    }

    private static List<Sample> Normals(int n) =>
        Enumerable.Range(0, n).Select(i => new Sample($"/d/n{i:D3}.png", SampleLabel.Normal, "good", "t", "c")).ToList();

    private static readonly Sample[] Defects =
        [new("/d/a0.png", SampleLabel.Anomalous, "x", "t", "c"), new("/d/a1.png", SampleLabel.Anomalous, "y", "t", "c")];

    [Theory]
    [InlineData(10, 0.8, 8)]
    [InlineData(7, 0.5, 4)]   // 3.5 rounds away from zero
    [InlineData(3, 0.99, 2)]  // always at least one normal image left to test
    [InlineData(3, 0.01, 1)]  // and at least one to train on
    public void TrainTakesTheRoundedRatioOfNormalsAndTestGetsTheRestPlusAllDefects(int normals, double ratio, int expectedTrain)
    {
        var split = SeededSplit.Split("t", "c", Normals(normals), Defects, new SplitOptions(ratio, 3));
        Assert.Equal(expectedTrain, split.Train.Count);
        Assert.All(split.Train, s => Assert.False(s.IsAnomalous));
        Assert.Equal(normals - expectedTrain, split.TestNormalCount);
        Assert.Equal(Defects.Select(d => d.SourcePath), split.Test.Where(s => s.IsAnomalous).Select(s => s.SourcePath));
        Assert.Empty(split.Train.Select(s => s.SourcePath).Intersect(split.Test.Select(s => s.SourcePath)));
    }

    [Fact]
    public void SameSeedSameSplitWhateverTheInputOrderAndOtherSeedsDiffer()
    {
        var normals = Normals(50);
        var a = SeededSplit.Split("t", "c", normals, Defects, new SplitOptions(0.8, 7));
        var reversed = Enumerable.Reverse(normals).ToList();
        var b = SeededSplit.Split("t", "c", reversed, Defects, new SplitOptions(0.8, 7));
        Assert.Equal(a.Train.Select(s => s.SourcePath), b.Train.Select(s => s.SourcePath));
        Assert.Equal(a.Test.Select(s => s.SourcePath), b.Test.Select(s => s.SourcePath));
        var trainSets = Enumerable.Range(0, 5)
            .Select(seed => string.Join(",", SeededSplit.Split("t", "c", normals, Defects, new SplitOptions(0.8, seed)).Train.Select(s => s.SourcePath)))
            .ToHashSet();
        Assert.Equal(5, trainSets.Count);
    }

    [Fact]
    public void SplitIsAShuffleNotTheFirstFilesInOrder()
    {
        var split = SeededSplit.Split("t", "c", Normals(100), [], SplitOptions.Default);
        var firstEighty = Normals(100).Take(80).Select(s => s.SourcePath);
        Assert.NotEqual(firstEighty, split.Train.Select(s => s.SourcePath));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void RatioOutsideTheOpenUnitIntervalIsAnInputError(double ratio)
    {
        var e = Assert.Throws<VigilInputException>(() => SeededSplit.Split("t", "c", Normals(5), [], new SplitOptions(ratio)));
        Assert.Contains("between 0 and 1", e.Message);
    }

    [Fact]
    public void FewerThanTwoNormalImagesIsAnInputError()
    {
        var e = Assert.Throws<VigilInputException>(() => SeededSplit.Split("t", "c", Normals(1), Defects, SplitOptions.Default));
        Assert.Contains("at least 2", e.Message);
    }
}
