using Vigil.Backbones;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.FrozenFeatures;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Shortcuts for tests of one detector's internals: fit a detector built by the test (with the backbone the test
/// chose) through the same <c>Learn</c> its trainer calls, save it as a model file and load it back.
/// </summary>
internal static class DetectorTesting
{
    public static void Fit(this FrozenFeatureDetector detector, IReadOnlyList<Sample> train, IProgress<WorkProgress>? progress = null) =>
        detector.Learn(train, continual: false, progress, default);

    public static void FitMore(this FrozenFeatureDetector detector, IReadOnlyList<Sample> train) =>
        detector.Learn(train, continual: true, null, default);

    public static void Save(this IDetector detector, string path) => DeployedModel.Write(path, detector, calibration: null, provenance: null);

    /// <summary>The detector of a model file (the caller disposes it).</summary>
    public static IDetector Load(string path, BackboneResolver backbone) => DeployedModel.Load(path, backbone).Detector;
}

/// <summary>A backbone provider that hands out extractors the test makes (e.g. <see cref="RandomConvFeatureExtractor"/>), whatever layers are asked for.</summary>
internal sealed class TestBackbone(Func<IFeatureExtractor> open) : IBackboneProvider
{
    public TestBackbone(long seed = 1) : this(() => new RandomConvFeatureExtractor(seed)) { }

    public string Name => "random-tiny-convnet";
    public IFeatureExtractor Open(IReadOnlyList<string> layers) => open();
}
