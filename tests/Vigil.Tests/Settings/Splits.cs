using Vigil.Data;

namespace Vigil.Tests.Settings;

/// <summary>In-memory splits (no files) for testing what settings do to lists of samples.</summary>
internal static class Splits
{
    public static DatasetSplit Make(int trainNormal, int testNormal, int testAnomalous)
    {
        var train = Enumerable.Range(0, trainNormal).Select(i => Normal($"/d/train/good/{i:D3}.png")).ToList();
        var test = Enumerable.Range(0, testNormal).Select(i => Normal($"/d/test/good/{i:D3}.png"))
            .Concat(Enumerable.Range(0, testAnomalous).Select(i => new Sample($"/d/test/crack/{i:D3}.png", SampleLabel.Anomalous, "crack", "t", "c",
                new MaskFile($"/d/ground_truth/crack/{i:D3}_mask.png"))))
            .ToList();
        return new DatasetSplit("t", "c", train, test);
    }

    private static Sample Normal(string path) => new(path, SampleLabel.Normal, "good", "t", "c");

    public static HashSet<string> Ids(IEnumerable<Sample> samples) => samples.Select(s => s.Id).ToHashSet();

    /// <summary>No image (by source path and variant) is both trained on and tested.</summary>
    public static void AssertDisjoint(DatasetSplit split) =>
        Assert.Empty(Ids(split.Train).Intersect(Ids(split.Test)));
}
