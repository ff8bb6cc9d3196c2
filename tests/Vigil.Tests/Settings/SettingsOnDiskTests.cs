using Vigil.Imaging;
using Vigil.Settings;
using Vigil.Tests.Benchmark;

namespace Vigil.Tests.Settings;

/// <summary>Settings on a real (generated) dataset on disk: samples still load, masks travel with anomalies and variants.</summary>
public class SettingsOnDiskTests : IClassFixture<SettingsOnDiskTests.Data>
{
    public sealed class Data : IDisposable
    {
        public TinySynthetic Dataset { get; } = new(trainCount: 6, testGoodCount: 3, perDefectCount: 3);
        public void Dispose() => Dataset.Dispose();
    }

    private readonly TinySynthetic _data;
    public SettingsOnDiskTests(Data data) => _data = data.Dataset;

    [Fact]
    public void SupervisedTrainingAnomaliesLoadWithTheirMasks()
    {
        var result = new FullySupervised(2).Apply(_data.Load(), 0);
        var moved = result.Train.Where(s => s.IsAnomalous).ToList();
        Assert.Equal(2, moved.Count);
        Assert.All(moved, s => Assert.True(s.Load().Mask.CountDefective() > 0, $"{s.Id} has no defective pixel"));
    }

    [Fact]
    public void AnAugmentedVariantLoadsTheTransformedImageAndMaskEveryTime()
    {
        var anomalous = _data.Load().Test.First(s => s.IsAnomalous && s.Mask is not null);
        var (image, mask) = anomalous.Load();
        var turn = new Augmentation(1, RotationDegrees: 90);
        var variant = anomalous with { Augmentation = turn };
        Assert.Equal(anomalous.SourcePath, variant.SourcePath);
        Assert.Equal(anomalous.SourcePath + "#1", variant.Id);
        var (turnedImage, turnedMask) = variant.Load();
        // 64×64 is square, so a quarter turn is a pixel permutation: np.rot90's out[r][c] = in[c][n−1−r].
        int n = image.Width;
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                Assert.Equal(mask[c, n - 1 - r], turnedMask[r, c]);
                Assert.Equal(image[1, c, n - 1 - r], turnedImage[1, r, c], 5);
            }
        Assert.True(turnedMask.CountDefective() > 0);
        Assert.Equal(turnedImage.Data, variant.LoadImage().Data);
    }

    [Fact]
    public void FewShotVariantsLoadAtTheImageSize()
    {
        var result = new FewShot(2, 2, AugmentationKinds.Rotation | AugmentationKinds.Perspective | AugmentationKinds.ColorJitter).Apply(_data.Load(), 4);
        Assert.Equal(6, result.Train.Count);
        foreach (var sample in result.Train)
        {
            var (image, mask) = sample.Load();
            Assert.Equal((3, 64, 64), (image.Channels, image.Height, image.Width));
            Assert.Equal(0, mask.CountDefective());
            Assert.All(image.Data, v => Assert.InRange(v, 0f, 1f));
        }
        Assert.NotEqual(result.Train[0].LoadImage().Data, result.Train[1].LoadImage().Data);
    }
}
