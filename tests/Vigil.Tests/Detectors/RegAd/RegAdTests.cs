using Vigil.Backbones;
using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Detectors.RegAd;
using Vigil.Registry;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.RegAd;

/// <summary>
/// RegAD's parts against independent references (the detector contract checks the rest): untrained spatial transformers
/// are the identity, so the registered features are the plain ResNet's and RegAD without registration training nor
/// support augmentation is PaDiM; the transformers' matrices, the SimSiam loss and the support
/// augmentation as the official code writes them; and a tiny registration training on other categories.
/// </summary>
public sealed class RegAdTests : IDisposable
{
    private readonly SyntheticTextures _data = new(seed: 5, trainCount: 6, testNormalCount: 2, testDefectiveCount: 2);

    private static BackboneChoice Backbone(int size) => new("resnet18_imagenet", WeightSource.Pretrained, new FeatureExtractorOptions { Resize = size });

    [Fact]
    public void UntrainedTransformersAreTheIdentitySoRegisteredFeaturesAreThePlainResNets()
    {
        var resnet = new ResNet(ResNetArchitecture.ResNet18, classes: 0, stages: 3);
        resnet.InitialiseRandomly(seed: 4);
        using var channels = arange(448);
        using var network = new RegAdNetwork(resnet, 64, 48, StnMode.RotationScale, channels, seed: 1);
        network.eval();
        using var noGrad = no_grad();
        using var images = randn([2, 3, 64, 48], generator: new Generator(2));
        var plain = resnet.ForwardStages(images, 3);
        var (output, registered) = network.Forward(images, registered: true);
        Assert.Equal(plain[2].shape, output.shape);
        Assert.True(allclose(plain[2], output, rtol: 1e-4, atol: 1e-5));
        for (int s = 0; s < 3; s++) Assert.True(allclose(plain[s], registered![s], rtol: 1e-4, atol: 1e-5), $"stage {s + 1}");
    }

    [Fact]
    public void TransformerMatricesAreTheOfficialOnesAndStartAtTheIdentity()
    {
        foreach (var mode in Enum.GetValues<StnMode>())
        {
            using var identity = SpatialTransformer.Theta(tensor(SpatialTransformer.Identity(mode)).unsqueeze(0), mode);
            Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0 }, identity.data<float>().ToArray());
        }
        // stn.py rotation_scale: [[cos(a)·s1, −sin(a), 0], [sin(a), cos(a)·s2, 0]].
        using var rotationScale = SpatialTransformer.Theta(tensor(new[] { 0.3f, 1.2f, 0.8f }).unsqueeze(0), StnMode.RotationScale);
        double c = Math.Cos(0.3), s = Math.Sin(0.3);
        AssertClose([c * 1.2, -s, 0, s, c * 0.8, 0], rotationScale);
        using var translationScale = SpatialTransformer.Theta(tensor(new[] { 0.1f, -0.2f, 1.5f, 0.5f }).unsqueeze(0), StnMode.TranslationScale);
        AssertClose([1.5, 0, 0.1, 0, 0.5, -0.2], translationScale);
        using var shear = SpatialTransformer.Theta(tensor(new[] { 0.25f, -0.5f }).unsqueeze(0), StnMode.Shear);
        AssertClose([1, 0.25, 0, -0.5, 1, 0], shear);
        // fixstn: the inverse transformation, first two rows of inv([θ; 0 0 1]).
        using var inverse = SpatialTransformer.Inverse(rotationScale);
        double det = c * 1.2 * c * 0.8 + s * s;
        AssertClose([c * 0.8 / det, s / det, 0, -s / det, c * 1.2 / det, 0], inverse);
    }

    [Fact]
    public void RegistrationLossIsTheSymmetricNegativeCosineWithStopGradient()
    {
        // p1 = (1, 0) against z2 = (1, 1): cosine 1/√2; p2 = (0, 2) against z1 = (3, 0): cosine 0; at a second position p1 ∥ z2 and p2 = −z1.
        using var p1 = tensor(new float[] { 1, 2, 0, 2 }).reshape(1, 2, 1, 2).requires_grad_();
        using var p2 = tensor(new float[] { 0, -1, 2, 0 }).reshape(1, 2, 1, 2).requires_grad_();
        using var z1 = tensor(new float[] { 3, 1, 0, 0 }).reshape(1, 2, 1, 2).requires_grad_();
        using var z2 = tensor(new float[] { 1, 4, 1, 4 }).reshape(1, 2, 1, 2).requires_grad_();
        using var loss = RegAdNetwork.SymmetricNegativeCosine(p1, p2, z1, z2);
        double expected = -((1 / Math.Sqrt(2) + 1) / 2) / 2 - ((0 + -1) / 2.0) / 2;
        Assert.Equal(expected, loss.item<float>(), 5);
        loss.backward();
        Assert.NotNull(p1.grad);
        Assert.True(z1.grad is null || z1.grad.abs().sum().item<float>() == 0);
        Assert.True(z2.grad is null || z2.grad.abs().sum().item<float>() == 0);
    }

    [Fact]
    public void SupportAugmentationGivesTheOfficialTwentyTwoCopies()
    {
        using var images = rand([2, 3, 6, 6], generator: new Generator(3));
        using var augmented = SupportAugmentation.Apply(images);
        Assert.Equal([44L, 3, 6, 6], augmented.shape);
        Tensor Copy(int k) => augmented.narrow(0, 2 * k, 2);
        Assert.True(allclose(Copy(0), images, rtol: 0, atol: 0));
        Assert.True(allclose(Copy(17), images.flip(3)));
        var grey = images[.., 0] * 0.299 + images[.., 1] * 0.587 + images[.., 2] * 0.114;
        for (int c = 0; c < 3; c++) Assert.True(allclose(Copy(18)[.., c], grey, atol: 1e-6));
        // The quarter turns of a square image are exact pixel permutations: torch.rot90 by 1, 2 and 3 (in some direction each).
        var turns = new[] { 1, 2, 3 }.Select(k => images.rot90(k, (2, 3))).ToList();
        for (int k = 19; k <= 21; k++) Assert.Contains(turns, t => allclose(Copy(k), t, atol: 1e-5));
        Assert.True(allclose(Copy(20), images.rot90(2, (2, 3)), atol: 1e-5));
        // A small rotation keeps the centre pixel's neighbourhood close and changes the image.
        Assert.False(allclose(Copy(1), images, atol: 1e-3));
    }

    [Fact]
    public void WithoutRegistrationNorSupportAugmentationItIsPadim()
    {
        // 100 of the 448 channels, the same subset for the same seed (PaDiM's batched inverse of 448-channel covariances
        // fails on several threads here; RegAD inverts position by position).
        var regad = new RegAdOptions { Meta = RegAdOptions.NoMeta, SupportAugment = false, Dimensions = 100 };
        var backbone = Backbone(64);
        using var regadDetector = new RegAdTrainer(regad).Fit(new TrainingData(_data.Train), new TrainingContext(0, backbone));
        using var padimDetector = DetectorRegistry.Parse("padim:dims=100").CreateTrainer().Fit(new TrainingData(_data.Train), new TrainingContext(0, backbone));
        foreach (var sample in _data.Test)
        {
            var image = sample.LoadImage();
            var expected = padimDetector.Predict(image);
            var actual = regadDetector.Predict(image);
            Assert.Equal(expected.Score, actual.Score, 2e-3f * expected.Score);
            for (int i = 0; i < expected.Map.Data.Length; i += 97)
                Assert.Equal(expected.Map.Data[i], actual.Map.Data[i], 2e-3f * Math.Max(1, expected.Map.Data[i]));
        }
    }

    [Fact]
    public void RegistrationTrainsOnTheOtherCategoriesOfTheMetaDataset()
    {
        var root = Path.Combine(Path.GetTempPath(), $"vigil-regad-meta-{Guid.NewGuid():N}");
        try
        {
            SyntheticDataset.Generate(root, new SyntheticOptions { ImageSize = 64, TrainGoodCount = 3, TestGoodCount = 1, TestDefectCount = 0 });
            var options = new RegAdOptions { Meta = $"synthetic:{root}", Epochs = 2, BatchSize = 2, Shot = 1, Dimensions = 20, LearningRate = 0.05 };
            // The target is wood: nut and tile remain, 3 images each → 2 batches each per epoch.
            var target = _data.Train.Select(s => s with { Category = "wood" }).ToList();
            var reports = new List<WorkProgress>();
            using var detector = (RegAdDetector)new RegAdTrainer(options).Fit(new TrainingData(target),
                new TrainingContext(3, Backbone(64), new Collect(reports)));
            var log = detector.Training!;
            Assert.Equal(2, log.Epochs.Count);
            Assert.Equal(6, log.TrainImages);
            Assert.All(log.Epochs, e => Assert.True(double.IsFinite(e.Loss) && e.Loss is >= -1 and <= 1));
            Assert.Contains(reports, r => r.Phase == "train" && r.Done == 8 && r.Total == 8);
            // Training moved the transformers away from the identity (their last layer starts at weight 0).
            var weights = detector.Network.named_parameters().Where(p => p.name.StartsWith("stn") && p.name.EndsWith("fc.2.weight")).ToList();
            Assert.Equal(3, weights.Count);
            Assert.All(weights, p => Assert.True(p.parameter.abs().sum().item<float>() > 0));

            using var again = new RegAdTrainer(options).Fit(new TrainingData(target), new TrainingContext(3, Backbone(64)));
            var image = _data.Test[^1].LoadImage();
            Assert.Equal(detector.Predict(image).Map.Data, again.Predict(image).Map.Data);

            // A meta dataset holding only the target's category has nothing to register.
            var alone = _data.Train.Select(s => s with { Category = "nut" }).Concat(_data.Train.Select(s => s with { Category = "tile" }))
                .Concat(target).ToList();
            var error = Assert.Throws<VigilInputException>(() => new RegAdTrainer(options).Fit(new TrainingData(alone), new TrainingContext(3, Backbone(64))));
            Assert.Contains("no category other than the target's", error.Message);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static void AssertClose(double[] expected, Tensor actual)
    {
        var values = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++) Assert.Equal(expected[i], values[i], 5);
    }

    private sealed class Collect(List<WorkProgress> into) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => into.Add(value);
    }

    public void Dispose() => _data.Dispose();
}
