using Vigil.Metrics;
using Vigil.Records;

namespace Vigil.Tests.Benchmark;

/// <summary>Cell specifications for tests that run cells outside a grid.</summary>
internal static class TestSpecs
{
    public static CellSpec Cell(string model = "patchcore", string dataset = "synthetic", string category = TinySynthetic.Category,
        string setting = CellKey.Unsupervised, int seed = 0, string backbone = "random-tiny-convnet", string weights = "random") =>
        new(model, "{}", model, dataset, dataset, category, setting, setting, seed, 0.8, backbone, weights, "resize 72x72, crop 64x64",
            new EvaluationOptions(), 0, VigilBuild.Version);
}
