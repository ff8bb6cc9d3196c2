using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Weights;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Synthetic textures for the supervised detectors' tests (<see cref="SupervisedContractTests"/>, DevNet, DRA, BGAD): 12 normal training images, and of the
/// 20 test images the first 6 defective ones (with their masks) moved into training as labelled anomalies.
/// </summary>
public sealed class LabelledTextures : IDisposable
{
    private readonly SyntheticTextures _data = new(seed: 11, trainCount: 12, testNormalCount: 8, testDefectiveCount: 12);

    public IReadOnlyList<Sample> Train => _data.Train;
    public IReadOnlyList<Sample> Labelled => _data.Test.Where(s => s.IsAnomalous).Take(6).ToList();
    public IReadOnlyList<Sample> Test => _data.Test.Except(Labelled).ToList();
    public TrainingData Supervised => new(_data.Train) { Anomalies = Labelled };

    /// <summary>The ImageNet ResNet18 at 128 × 128 pixels.</summary>
    public static IBackboneProvider Backbone =>
        new BackboneChoice("resnet18_imagenet", WeightSource.Pretrained, new FeatureExtractorOptions { Resize = 128 });

    public void Dispose() => _data.Dispose();
}
