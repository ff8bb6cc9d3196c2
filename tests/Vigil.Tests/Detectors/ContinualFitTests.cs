using TorchSharp;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Spade;
using Vigil.Randomness;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Continual training (FitMore) of each detector against what it must equal: PaDiM fitted on A then B is the
/// PaDiM fitted on A ∪ B; SPADE's features are appended; PatchCore's bank grows by exactly the new task's coreset
/// and a bank cap holds; a saved and reloaded model continues as if never interrupted.
/// </summary>
public class ContinualFitTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    private IReadOnlyList<Sample> TaskA => fixture.Data.Train.Take(6).ToList();
    private IReadOnlyList<Sample> TaskB => fixture.Data.Train.Skip(6).ToList();

    /// <summary>PatchCore with short embeddings, so the tests stay fast.</summary>
    private static PatchCoreOptions PatchCore => new() { CoresetRatio = 0.1, PretrainEmbedDimension = 96, TargetEmbedDimension = 96 };

    [Fact]
    public void PadimFittedOnAThenBEqualsPadimFittedOnTheUnion()
    {
        var options = new PadimOptions { Dimensions = 20 };
        using var union = new PadimDetector(new RandomConvFeatureExtractor(), options);
        using var continued = new PadimDetector(new RandomConvFeatureExtractor(), options);
        union.Fit(fixture.Data.Train); // the one-task path (keeps no running statistics)
        continued.FitMore(TaskA);
        continued.FitMore(TaskB);
        Assert.True(continued.CanFitMore);
        AssertSamePredictions(union, continued, 1e-4);

        // A fresh model after one task is not the union model: the comparison above can fail.
        using var onlyA = new PadimDetector(new RandomConvFeatureExtractor(), options);
        onlyA.FitMore(TaskA);
        var image = fixture.Data.Test[^1].LoadImage();
        Assert.True(Math.Abs(onlyA.Predict(image).Score - union.Predict(image).Score) > 1e-3 * union.Predict(image).Score);
    }

    [Fact]
    public void PadimContinuesAfterSaveAndLoadAndThreeTasksStillEqualTheUnion()
    {
        var options = new PadimOptions { Dimensions = 20 };
        using var union = new PadimDetector(new RandomConvFeatureExtractor(), options);
        union.Fit(fixture.Data.Train);
        var path = Path.Combine(Path.GetTempPath(), $"vigil-padim-continual-{Guid.NewGuid():N}.vigil");
        try
        {
            using (var first = new PadimDetector(new RandomConvFeatureExtractor(), options))
            {
                first.FitMore(fixture.Data.Train.Take(4).ToList());
                first.Save(path);
            }
            using var loaded = (PadimDetector)DetectorTesting.Load(path, _ => new RandomConvFeatureExtractor());
            Assert.True(loaded.CanFitMore);
            loaded.FitMore(fixture.Data.Train.Skip(4).Take(1).ToList()); // a single image is enough once statistics exist
            loaded.FitMore(fixture.Data.Train.Skip(5).ToList());
            AssertSamePredictions(union, loaded, 1e-4);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PadimFittedOneShotCannotContinue()
    {
        using var detector = new PadimDetector(new RandomConvFeatureExtractor(), new PadimOptions { Dimensions = 20 });
        detector.Fit(TaskA);
        Assert.False(detector.CanFitMore);
        var error = Assert.Throws<VigilInputException>(() => detector.FitMore(TaskB));
        Assert.Contains("continual setting from the start", error.Message);
    }

    [Fact]
    public void SpadeFittedOnAThenBEqualsSpadeFittedOnTheUnion()
    {
        var options = new SpadeOptions { NearestImages = 5 };
        using var union = new SpadeDetector(new RandomConvFeatureExtractor(), options);
        using var continued = new SpadeDetector(new RandomConvFeatureExtractor(), options);
        union.Fit(fixture.Data.Train);
        continued.FitMore(TaskA);
        continued.FitMore(TaskB);
        Assert.Equal(union.StateBytes, continued.StateBytes);
        AssertSamePredictions(union, continued, 0);
    }

    [Fact]
    public void PatchCoreBankGrowsByExactlyTheNewTasksCoreset()
    {
        var options = PatchCore;
        using var continued = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        using var onlyA = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        using var onlyB = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        onlyA.Fit(TaskA);
        onlyB.Fit(TaskB);
        continued.FitMore(TaskA);
        Assert.Equal((int)(6 * 16 * 16 * 0.1), continued.MemoryBankSize);
        continued.FitMore(TaskB);
        Assert.Equal(onlyA.MemoryBankSize + onlyB.MemoryBankSize, continued.MemoryBankSize);
        Assert.Equal(Rows(onlyA.MemoryBank!).Concat(Rows(onlyB.MemoryBank!)), Rows(continued.MemoryBank!), RowComparer.Instance);

        // Fit starts over: the bank is task B's alone again.
        continued.Fit(TaskB);
        Assert.Equal(Rows(onlyB.MemoryBank!), Rows(continued.MemoryBank!), RowComparer.Instance);
    }

    [Theory]
    [InlineData(BankCapStrategy.Reservoir)]
    [InlineData(BankCapStrategy.Coreset)]
    public void PatchCoreBankCapHoldsKeepsOnlyOfferedFeaturesAndIsSeeded(BankCapStrategy strategy)
    {
        const int cap = 200; // task A's coreset has 153 features, A + B 306
        var options = PatchCore with { BankCap = cap, BankCapStrategy = strategy };
        var (bank, offered) = CappedBank(options, seed: 3);
        Assert.Equal(cap, bank.Count);
        Assert.Equal(306, offered.Count);
        var offeredRows = offered.ToHashSet(RowComparer.Instance);
        Assert.All(bank, row => Assert.Contains(row, offeredRows));
        Assert.Equal(cap, bank.ToHashSet(RowComparer.Instance).Count); // no feature twice
        Assert.Contains(bank, row => offered.Take(153).Contains(row, RowComparer.Instance));  // task A still represented
        Assert.Contains(bank, row => offered.Skip(153).Contains(row, RowComparer.Instance));  // task B entered

        Assert.Equal(bank, CappedBank(options, seed: 3).Bank, RowComparer.Instance);
        Assert.NotEqual(bank, CappedBank(options, seed: 4).Bank, RowComparer.Instance);
    }

    [Fact]
    public void CoresetCapCoversTheOfferedFeaturesBetterThanTheReservoir()
    {
        var options = PatchCore with { BankCap = 100 };
        var (coreset, offered) = CappedBank(options with { BankCapStrategy = BankCapStrategy.Coreset });
        var (reservoir, _) = CappedBank(options with { BankCapStrategy = BankCapStrategy.Reservoir });
        // Coverage radius: the largest distance of an offered feature to its nearest bank feature (what k-center minimises).
        double Radius(List<float[]> bank) => offered.Max(o => bank.Min(b => SquaredDistance(o, b)));
        Assert.True(Radius(coreset) < Radius(reservoir), $"coreset radius² {Radius(coreset)}, reservoir {Radius(reservoir)}");
    }

    [Fact]
    public void ReservoirKeepsEveryOfferedItemWithEqualProbabilityAcrossTasks()
    {
        // 12 items, then 8 more, into a reservoir of 5: every item must end up kept with probability 5/20.
        const int trials = 20000, cap = 5;
        var kept = new int[20];
        for (int trial = 0; trial < trials; trial++)
        {
            var random = new SeededRandom((ulong)trial);
            var first = PatchCoreDetector.ReservoirSlots(0, 0, 12, cap, random);
            var afterFirst = first.ToArray(); // item ids 0..11
            var second = PatchCoreDetector.ReservoirSlots(afterFirst.Length, 12, 8, cap, random);
            foreach (var slot in second) kept[slot < afterFirst.Length ? afterFirst[slot] : 12 + slot - afterFirst.Length]++;
        }
        Assert.All(kept, count => Assert.InRange(count / (double)trials, 0.25 - 0.02, 0.25 + 0.02));
    }

    [Fact]
    public void PatchCoreWithReservoirCapContinuesAfterSaveAndLoadAsIfNeverInterrupted()
    {
        var options = PatchCore with { BankCap = 200 };
        using var uninterrupted = new PatchCoreDetector(new RandomConvFeatureExtractor(), options);
        uninterrupted.FitMore(TaskA);
        uninterrupted.FitMore(TaskB);
        var path = Path.Combine(Path.GetTempPath(), $"vigil-patchcore-continual-{Guid.NewGuid():N}.vigil");
        try
        {
            using (var first = new PatchCoreDetector(new RandomConvFeatureExtractor(), options))
            {
                first.FitMore(TaskA);
                first.Save(path);
            }
            using var loaded = (PatchCoreDetector)DetectorTesting.Load(path, _ => new RandomConvFeatureExtractor());
            loaded.FitMore(TaskB);
            Assert.Equal(Rows(uninterrupted.MemoryBank!), Rows(loaded.MemoryBank!), RowComparer.Instance);
        }
        finally { File.Delete(path); }
    }

    /// <summary>The bank after tasks A and B with a cap, and every feature offered to it (both tasks' coresets, uncapped).</summary>
    private (List<float[]> Bank, List<float[]> Offered) CappedBank(PatchCoreOptions options, long seed = 0)
    {
        using var capped = new PatchCoreDetector(new RandomConvFeatureExtractor(), options, seed);
        using var uncapped = new PatchCoreDetector(new RandomConvFeatureExtractor(), options with { BankCap = null }, seed);
        capped.FitMore(TaskA);
        capped.FitMore(TaskB);
        uncapped.FitMore(TaskA);
        uncapped.FitMore(TaskB);
        return (Rows(capped.MemoryBank!), Rows(uncapped.MemoryBank!));
    }

    private void AssertSamePredictions(FrozenFeatureDetector expected, FrozenFeatureDetector actual, double relativeTolerance)
    {
        foreach (var sample in fixture.Data.Test.Take(2).Concat(fixture.Data.Test.TakeLast(2)))
        {
            var image = sample.LoadImage();
            var e = expected.Predict(image);
            var a = actual.Predict(image);
            double tolerance = relativeTolerance * Math.Abs(e.Score);
            Assert.Equal(e.Score, a.Score, tolerance);
            for (int i = 0; i < e.Map.Data.Length; i++) Assert.Equal(e.Map.Data[i], a.Map.Data[i], tolerance);
        }
    }

    internal static double SquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)(a[i] - b[i]) * (a[i] - b[i]);
        return sum;
    }

    internal static List<float[]> Rows(Tensor bank)
    {
        using var scope = NewDisposeScope();
        var data = bank.contiguous().data<float>().ToArray();
        int d = (int)bank.shape[1];
        return Enumerable.Range(0, (int)bank.shape[0]).Select(r => data.AsSpan(r * d, d).ToArray()).ToList();
    }

    internal sealed class RowComparer : IEqualityComparer<float[]>
    {
        public static readonly RowComparer Instance = new();
        public bool Equals(float[]? x, float[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);
        public int GetHashCode(float[] row) => row.Length == 0 ? 0 : HashCode.Combine(row[0], row[^1], row.Length);
    }
}
