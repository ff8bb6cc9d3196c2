namespace Vigil.Tests.Detectors;

/// <summary>Twelve normal training textures; six normal and six bright-blob test images.</summary>
public sealed class TexturesFixture : IDisposable
{
    public SyntheticTextures Data { get; } = new(seed: 1, trainCount: 12, testNormalCount: 6, testDefectiveCount: 6);
    public void Dispose() => Data.Dispose();
}

/// <summary>Image AUROC as the Mann-Whitney U statistic: P(score of an anomalous image > score of a normal one), ties half.</summary>
internal static class Auroc
{
    public static double MannWhitney(IReadOnlyList<(float Score, bool Anomalous)> scored)
    {
        var anomalous = scored.Where(s => s.Anomalous).Select(s => s.Score).ToArray();
        var normal = scored.Where(s => !s.Anomalous).Select(s => s.Score).ToArray();
        double wins = anomalous.Sum(a => normal.Sum(n => a > n ? 1.0 : a == n ? 0.5 : 0.0));
        return wins / (anomalous.Length * (double)normal.Length);
    }
}
