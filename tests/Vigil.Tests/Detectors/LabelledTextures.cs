using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Registry;
using Vigil.Weights;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Synthetic textures for the supervised detectors' tests (DevNet, BGAD): 12 normal training images, and of the
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

    /// <summary>
    /// Fits <paramref name="model"/> twice with the same seed on <see cref="Supervised"/>: both give the same scores and
    /// maps (at each image's size) on the first and last three test images, and the first, saved and loaded, the same scores.
    /// </summary>
    public void AssertSavesLoadsAndRepeats(string model)
    {
        var spec = DetectorRegistry.Parse(model);
        using var first = spec.CreateTrainer().Fit(Supervised, new TrainingContext(4, Backbone));
        using var second = spec.CreateTrainer().Fit(Supervised, new TrainingContext(4, Backbone));
        var path = Path.Combine(Path.GetTempPath(), $"vigil-supervised-{Guid.NewGuid():N}.vgl");
        try
        {
            first.Save(path);
            using var loaded = DetectorTesting.Load(path, reference => Backbone.Open(reference.Layers));
            foreach (var sample in Test.Take(3).Concat(Test.TakeLast(3)))
            {
                var image = sample.LoadImage();
                var expected = first.Predict(image);
                Assert.Equal(expected.Score, second.Predict(image).Score);
                Assert.Equal(expected.Map.Data, second.Predict(image).Map.Data);
                Assert.Equal(expected.Score, loaded.Predict(image).Score, 1e-5f * Math.Max(1f, Math.Abs(expected.Score)));
                Assert.Equal((image.Height, image.Width), (expected.Map.Height, expected.Map.Width));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    public void Dispose() => _data.Dispose();
}
