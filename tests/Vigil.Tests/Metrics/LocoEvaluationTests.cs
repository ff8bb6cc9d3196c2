using System.Text.Json;
using System.Text.Json.Serialization;
using Vigil.Imaging;
using Vigil.Metrics;

using static Vigil.Tests.Metrics.TestMasks;

namespace Vigil.Tests.Metrics;

public class LocoEvaluationTests
{
    private static readonly LocoDefectConfig Whole = new("whole", 255, 1.0, true);
    private static readonly double[] Limits = [0.3, 1.0];

    /// <summary>
    /// Three 1x2 images: good (map .1 .2), logical (channel at pixel 0, map .9 .05), structural (channel at pixel 1,
    /// map .3 .15); image scores good .5, logical .9, structural .4.
    /// Logical + good: the channel pixel (.9) comes first, then the 3 normal pixels: curve (0,0) → (0,1) → (1,1):
    /// AUC 1 at both limits; AUROC 1 (.9 &gt; .5).
    /// Structural + good: .3 N → (1/3, 0), .2 N → (2/3, 0), .15 S → (2/3, 1), .1 N → (1, 1): AUC to 1 = 1/3, to .3 = 0;
    /// AUROC 0 (.4 &lt; .5).
    /// All: .9 L → (0, .5), .3 N → (.25, .5), .2 N → (.5, .5), .15 S → (.5, 1), .1 N, .05 N → (1, 1): AUC to 1 = .75,
    /// to .3 = (.125 + .025) / .3 = .5; AUROC .5 (.9 &gt; .5 &gt; .4).
    /// Mean: AUC (1 + 1/3) / 2 and (1 + 0) / 2; AUROC .5.
    /// </summary>
    [Fact]
    public void GroupsFollowTheOfficialSplitByHand()
    {
        var result = Run(
            [LocoImageKind.Good, LocoImageKind.Logical, LocoImageKind.Structural],
            [LocoGroundTruth.Good(1, 2), Truth(0), Truth(1)],
            [Map(0.1f, 0.2f), Map(0.9f, 0.05f), Map(0.3f, 0.15f)],
            [0.5f, 0.9f, 0.4f]);
        AssertScores(result.Logical, 1.0, 1.0, 1.0);
        AssertScores(result.Structural, 0.0, 0.0, 1.0 / 3);
        AssertScores(result.All, 0.5, 0.5, 0.75);
        AssertScores(result.Mean, 0.5, 0.5, 2.0 / 3);
        Assert.Equal((1, 1, 1), (result.GoodImages, result.LogicalImages, result.StructuralImages));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void MissingGroupsGiveNaNWithAWarning()
    {
        var noStructural = Run([LocoImageKind.Good, LocoImageKind.Logical], [LocoGroundTruth.Good(1, 2), Truth(0)],
            [Map(0.1f, 0.2f), Map(0.9f, 0.05f)], [0.5f, 0.9f]);
        Assert.True(double.IsNaN(noStructural.Structural.ImageAuroc));
        Assert.All(noStructural.Structural.AucSpro.Values, v => Assert.True(double.IsNaN(v)));
        Assert.All(noStructural.Mean.AucSpro.Values, v => Assert.True(double.IsNaN(v)));
        Assert.Equal(1.0, noStructural.Logical.AucSpro[1.0], 12);
        Assert.Equal(noStructural.Logical.ImageAuroc, noStructural.All.ImageAuroc); // the same images
        Assert.Equal(noStructural.Logical.AucSpro.OrderBy(p => p.Key), noStructural.All.AucSpro.OrderBy(p => p.Key));
        Assert.Contains(noStructural.Warnings, w => w.Contains("structural"));

        var noGood = Run([LocoImageKind.Logical], [Truth(0)], [Map(0.9f, 0.05f)], [0.9f]);
        Assert.True(double.IsNaN(noGood.Logical.ImageAuroc));
        Assert.Equal(1.0, noGood.Logical.AucSpro[1.0], 12); // the normal pixel of the anomalous image defines the FPR
        Assert.Contains(noGood.Warnings, w => w.Contains("No good test image"));
    }

    [Fact]
    public void InconsistentInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => Run([LocoImageKind.Good], [LocoGroundTruth.Good(1, 2)], [], [0.5f]));
        Assert.Contains("#0 is good", Assert.Throws<ArgumentException>(() =>
            Run([LocoImageKind.Good], [Truth(0)], [Map(0.1f, 0.2f)], [0.5f])).Message);
        Assert.Contains("#0 is a Logical anomaly", Assert.Throws<ArgumentException>(() =>
            Run([LocoImageKind.Logical], [LocoGroundTruth.Good(1, 2)], [Map(0.1f, 0.2f)], [0.5f])).Message);
        Assert.Contains("#1", Assert.Throws<VigilInputException>(() => Run([LocoImageKind.Good, LocoImageKind.Logical],
            [LocoGroundTruth.Good(1, 2), Truth(0)], [Map(0.1f, 0.2f), Map(0.9f, 0.05f)], [0.5f, float.NaN])).Message);
    }

    [Fact]
    public void ResultRoundTripsThroughJsonWithNaN()
    {
        var result = Run([LocoImageKind.Good, LocoImageKind.Logical], [LocoGroundTruth.Good(1, 2), Truth(0)],
            [Map(0.1f, 0.2f), Map(0.9f, 0.05f)], [0.5f, 0.9f]);
        var options = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        var back = JsonSerializer.Deserialize<LocoEvaluationResult>(JsonSerializer.Serialize(result, options), options)!;
        Assert.Equal(result.Logical.ImageAuroc, back.Logical.ImageAuroc);
        Assert.Equal(result.Logical.AucSpro.OrderBy(p => p.Key), back.Logical.AucSpro.OrderBy(p => p.Key));
        Assert.True(double.IsNaN(back.Structural.ImageAuroc));
        Assert.Equal(result.Warnings, back.Warnings);
        Assert.Equal((1, 1, 0), (back.GoodImages, back.LogicalImages, back.StructuralImages));
    }

    private static LocoEvaluationResult Run(LocoImageKind[] kinds, LocoGroundTruth[] truths, ScoreMap[] maps, float[] scores) =>
        LocoEvaluation.Run(kinds, truths, maps, scores, Limits);

    private static LocoGroundTruth Truth(int pixel) => new(1, 2, [new LocoDefectChannel(Mask(1, 2, pixel), Whole)]);

    private static ScoreMap Map(float a, float b) => new(1, 2, [a, b]);

    private static void AssertScores(LocoScores scores, double auroc, double spro03, double spro1)
    {
        Assert.Equal(auroc, scores.ImageAuroc, 12);
        Assert.Equal(spro03, scores.AucSpro[0.3], 12);
        Assert.Equal(spro1, scores.AucSpro[1.0], 12);
    }
}
