using Vigil.Backbones;
using Vigil.Detectors.CutPaste;
using Vigil.Imaging;
using Vigil.Training;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.CutPaste;

/// <summary>
/// CutPaste's self-supervised batch (the detector contract checks the rest): each image, its CutPaste copy and its scar
/// copy, labelled 0, 1, 2, each copy changed only where the reference's augmentation can change it, and drawn from the
/// step's generator alone.
/// </summary>
public sealed class CutPasteTests : IDisposable
{
    private readonly SyntheticTextures _data = new(seed: 3, trainCount: 2, testNormalCount: 0, testDefectiveCount: 0);

    [Fact]
    public void ThreeWayViewsAreTheImageItsCutPasteAndItsScarLabelledByView()
    {
        var backbone = new BackboneChoice("resnet18_imagenet", WeightSource.Pretrained, new FeatureExtractorOptions { Resize = 128 });
        var options = new CutPasteOptions { Jitter = 0, HeadLayers = 1, HeadWidth = 16, EmbeddingWidth = 8 };
        using var detector = new CutPasteDetector(backbone.Open(["layer4"]), options, seed: 0);
        var rgb = _data.Train.Select(s => ImageOps.ToRgb(s.LoadImage(), s.SourcePath)).ToList();
        using var images = TrainingInputs.ToBatch(detector.Preprocessing, rgb);
        int pixels = 128 * 128;

        using var generator = new Generator(7);
        var (views, labels) = detector.Views(images, generator);
        Assert.Equal([6L, 3, 128, 128], views.shape);
        Assert.Equal([0L, 0, 1, 1, 2, 2], labels.data<long>().ToArray());
        for (int i = 0; i < 2; i++)
        {
            // Without jitter the image view is the image (up to the float rounding of leaving and re-entering the normalisation).
            Assert.Empty(Changed(images[i], views[i]));
            var patch = Changed(images[i], views[2 + i]);
            Assert.InRange(patch.Count, 1, (int)(0.15 * pixels * 1.1));
            var scar = Changed(images[i], views[4 + i]);
            // The scar: at most 16 × 25 pixels turned (rounded up to the canvas), so within a 31 × 31 box.
            Assert.InRange(scar.Count, 1, 16 * 25 + 41);
            Assert.InRange(scar.Max(p => p.Y) - scar.Min(p => p.Y), 0, 30);
            Assert.InRange(scar.Max(p => p.X) - scar.Min(p => p.X), 0, 30);
        }

        using var sameSeed = new Generator(7);
        Assert.Equal(views.data<float>().ToArray(), detector.Views(images, sameSeed).Views.data<float>().ToArray());
        using var otherSeed = new Generator(8);
        Assert.NotEqual(views.data<float>().ToArray(), detector.Views(images, otherSeed).Views.data<float>().ToArray());
    }

    public void Dispose() => _data.Dispose();

    /// <summary>Pixels (y, x) where any channel of two preprocessed images [3, H, W] differs by more than float rounding.</summary>
    private static List<(int Y, int X)> Changed(Tensor a, Tensor b)
    {
        using var differs = (a - b).abs().amax([0]).gt(1e-4f);
        long w = a.shape[2];
        var flags = differs.data<bool>().ToArray();
        return [.. Enumerable.Range(0, flags.Length).Where(k => flags[k]).Select(k => (k / (int)w, k % (int)w))];
    }
}
