using Vigil.Data;
using Vigil.Reporting;

namespace Vigil.Tests.Reporting;

/// <summary>
/// A bench cell keeps overlay data only for the images picked among the test images seen so far
/// (CellRunner drops the rest as it scores); that is safe only if a final pick was picked at every prefix.
/// </summary>
public class OverlayPickTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 1)]
    [InlineData(3, 3)]
    public void AFinalPickIsPickedInEveryPrefixThatHoldsIt(int seed, int perRole)
    {
        var rng = new Random(seed);
        int n = 40;
        var test = Enumerable.Range(0, n).Select(i => new Sample($"{i}.png", rng.Next(3) == 0 ? SampleLabel.Normal : SampleLabel.Anomalous,
            "d", "t", "c")).ToArray();
        var scores = Enumerable.Range(0, n).Select(_ => rng.Next(6) * 0.5f).ToArray(); // many ties
        var final = CellArtifacts.Pick(test, scores, perRole).SelectMany(p => p.Indices).ToList();
        Assert.NotEmpty(final);
        for (int length = 1; length <= n; length++)
        {
            var prefix = CellArtifacts.Pick(test[..length], scores[..length], perRole).SelectMany(p => p.Indices).ToHashSet();
            foreach (int i in final.Where(i => i < length))
                Assert.True(prefix.Contains(i), $"image {i} is picked at the end but not among the first {length}");
        }
    }
}
