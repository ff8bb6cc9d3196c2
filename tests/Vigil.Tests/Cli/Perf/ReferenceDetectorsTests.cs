using Vigil.Cli.Perf;
using Vigil.Components;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Tests.Detectors;
using static TorchSharp.torch;

namespace Vigil.Tests.Cli.Perf;

/// <summary>
/// The straightforward libtorch versions `vigil perf detectors --compare-reference` times must compute what Vigil's
/// detectors compute: each is an independent plain implementation of the reference code, so agreement checks both.
/// </summary>
public class ReferenceDetectorsTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    [Theory]
    [InlineData("patchcore:coreset=1")] // the full bank: the coreset loop is checked on its own below
    [InlineData("padim")]
    [InlineData("spade")]
    public void TheStraightforwardVersionGivesVigilsScoresAndMaps(string model)
    {
        var spec = DetectorRegistry.Parse(model);
        var backbone = new TestBackbone();
        using var vigil = spec.CreateTrainer().Fit(new TrainingData(fixture.Data.Train), new TrainingContext(0, backbone));
        using var reference = ReferenceComparePerf.CreateReference(spec.Options, backbone);
        reference.Fit(fixture.Data.Train);
        foreach (var sample in fixture.Data.Test.Take(3).Concat(fixture.Data.Test.TakeLast(3)))
        {
            var image = sample.LoadImage();
            var (score, map) = reference.Predict(image);
            var actual = vigil.Predict(image);
            // cdist and float64 inverses against Vigil's blocked products: float rounding only.
            Assert.Equal(score, actual.Score, Math.Abs(score) * 1e-4);
            float scale = map.Data.Max(Math.Abs);
            Assert.All(map.Data.Zip(actual.Map.Data), p => Assert.Equal(p.First, p.Second, scale * 1e-4));
        }
    }

    [Fact]
    public void AComparisonWhoseStraightforwardVersionCannotFitInMemoryIsRefusedBeforeItsFit()
    {
        // The straightforward PatchCore holds every training patch (here ≥ 100 KB per image): for ten million images no
        // machine has the memory, while the probe fits that estimate it read only the first ten.
        var spec = DetectorRegistry.Parse("patchcore");
        var train = fixture.Data.Train;
        var many = Enumerable.Range(0, 10_000_000).Select(i => train[i % train.Count]).ToList();
        var error = Assert.Throws<VigilInputException>(() => ReferenceComparePerf.RequireMemoryForReference(spec, new TestBackbone(), many));
        Assert.Contains("--train ", error.Message);

        ReferenceComparePerf.RequireMemoryForReference(spec, new TestBackbone(), many.Take(20).ToList()); // twenty fit
    }

    [Fact]
    public void TheOfficialGreedyLoopPicksWhatVigilsCoresetPicks()
    {
        using var scope = NewDisposeScope();
        var rows = PaddedRows.FromTensor(randn(600, 12, generator: new Generator(3)));
        int[] starts = [4, 90, 333];
        Assert.Equal(KCenterGreedy.Select(rows, 60, starts), ReferencePatchCore.GreedyCoreset(rows, 60, starts));
    }
}
