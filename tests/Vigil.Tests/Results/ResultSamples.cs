using Vigil.Benchmark;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>Hand-made cells and runs with known values (NaN metrics, quotes, non-ASCII text) for store tests.</summary>
internal static class ResultSamples
{
    /// <summary>A cell specification with every field set (quotes and non-ASCII text included).</summary>
    public static CellSpec Spec { get; } = new("patchcore", """{"coreset":"0.1","layers":"layer2+layer3"}""", "patchcore", "mvtec", "mvtec:/data/ünï \"mvtec\"",
        "wood", CellKey.Unsupervised, CellKey.Unsupervised, 3, 0.8, "wide_resnet50_2", "9c1185a5c5e9fc54612808977ee8f548b2258d31fa7ad6c2e4d3c7f8f1e6d8a0",
        "resize 256x256, crop 224x224", new EvaluationOptions(), 0, "0.1.0");

    public static CellResult Cell(CellSpec? spec = null, int images = 3) => new(
        spec ?? Spec,
        RandomWeights: false,
        TrainCount: 12,
        TestCount: images,
        new EvaluationResult(0.875, 0.9125, new F1Max(0.8, 1.25f), double.NaN, double.NaN, new F1Max(double.NaN, float.NaN),
            double.NaN, 0.3, EvaluationResolution.Model,
            ["No mask has a defective pixel (image-level labels only): pixel metrics are NaN.", "second, with \"quotes\" and ünïcode"]),
        new Efficiency(1.5, 12.25, 20.5, 123_456_789_012, 4096, 41.5, 4, 5000),
        Enumerable.Range(0, images).Select(i => new ImageOutcome(
            $"/data/wood/test/{(i % 3 == 0 ? "good" : "crack")}/{i:D4}.png", i % 3 != 0, i % 3 == 0 ? "good" : "crack",
            i == 1 ? 3.4028235e38f : i * 0.125f - 1e-7f)).ToList(),
        ["patchcore cannot use labelled anomalies"],
        new CellArtifactIndex(0.3, new Curve([0, 0.5, 1], [0, 0.75, 1]), null, -1.5f, 2.25f,
            [new OverlayImage("overlays/top-anomaly-1.png", OverlayRole.TopAnomaly, 1, "/data/wood/test/crack/0001.png", "crack", true, 0.125f)]));

    /// <summary>The artifact files <see cref="Cell"/>'s index names (bytes a PNG decoder would not accept: the store keeps bytes, not images).</summary>
    public static IReadOnlyDictionary<string, byte[]> Files { get; } = new Dictionary<string, byte[]>
    {
        ["overlays/top-anomaly-1.png"] = [0x89, 0x50, 0x4E, 0x47, 0, 255, 1, 2, 3],
    };

    /// <summary>The metric rows <see cref="Cell"/> must produce, written out by hand (null = NaN).</summary>
    public static readonly Dictionary<string, double?> Metrics = new()
    {
        ["ImageAuroc"] = 0.875,
        ["ImageAveragePrecision"] = 0.9125,
        ["ImageF1Max.F1"] = 0.8,
        ["ImageF1Max.Threshold"] = 1.25,
        ["PixelAuroc"] = null,
        ["PixelAveragePrecision"] = null,
        ["PixelF1Max.F1"] = null,
        ["PixelF1Max.Threshold"] = null,
        ["AuPro"] = null,
        ["ProFprLimit"] = 0.3,
    };

    public static readonly Dictionary<string, double?> Timings = new()
    {
        ["FitSeconds"] = 1.5,
        ["LatencyMedianMs"] = 12.25,
        ["LatencyP95Ms"] = 20.5,
        ["PeakWorkingSetBytes"] = 123_456_789_012,
        ["StateBytes"] = 4096,
        ["ThroughputImagesPerSecond"] = 41.5,
        ["ThroughputBatchSize"] = 4,
        ["ModelFileBytes"] = 5000,
    };

    public static RunRecord Run(string backbone = "wide_resnet50_2") => new(
        new DateTimeOffset(2026, 11, 23, 15, 4, 5, 678, TimeSpan.Zero).AddTicks(9),
        "vigil bench --data /data/mvtec --models patchcore \"--out\" 'ünï'",
        """{"models":["patchcore"],"ratio":0.1,"label":"ünïcode \"quoted\"","nested":{"k":[1,2,3]}}""",
        "0.1.0",
        "63e74766700ee14a73eeb27cfa80f94b089cbbda",
        backbone,
        "9c1185a5c5e9fc54612808977ee8f548b2258d31fa7ad6c2e4d3c7f8f1e6d8a0",
        new RunEnvironment("bench-host", "Debian GNU/Linux 12", 2, 25_769_803_776, ".NET 10.0.0"));
}
