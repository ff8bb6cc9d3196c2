using TorchSharp;
using Vigil.Components;
using Vigil.Detectors.SimpleNet;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>SimpleNet's loss, networks and maps against hand computations.</summary>
public class SimpleNetTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    [Fact]
    public void TruncatedL1PushesNormalScoresAboveTheMarginAndAnomalousOnesBelowItsNegative()
    {
        // th = 0.5: normal terms max(0, 0.5 − s) = 0, 0.3, 0.6 (mean 0.3); anomalous max(0, s + 0.5) = 0, 0.5, 1.1 (mean 1.6 / 3).
        using var normal = tensor(new[] { 0.7f, 0.2f, -0.1f }).reshape(3, 1);
        using var anomalous = tensor(new[] { -0.9f, 0f, 0.6f }).reshape(3, 1);
        using var loss = SimpleNetNetworks.TruncatedL1(normal, anomalous, 0.5);
        Assert.Equal(0.3 + 1.6 / 3, loss.item<float>(), 5);
    }

    [Fact]
    public void DiscriminatorHasTheOfficialLayersAndWidths()
    {
        using var generator = new Generator(1);
        // hidden 1024 (run.sh): Linear(1536 → 1024), BatchNorm1d(1024), LeakyReLU, tail Linear(1024 → 1) without bias.
        using var official = SimpleNetNetworks.Discriminator(1536, 2, 1024, generator);
        Assert.Equal([[1024, 1536], [1024], [1024], [1024], [1, 1024]], official.parameters().Select(p => p.shape).ToArray());
        // No hidden width: each block ⌊previous / 1.5⌋, 12 → 8 → 5.
        using var fallback = SimpleNetNetworks.Discriminator(12, 3, null, generator);
        Assert.Equal([[8, 12], [8], [8], [8], [5, 8], [5], [5], [5], [1, 5]], fallback.parameters().Select(p => p.shape).ToArray());
        // Xavier-normal weights: std √(2 / (1536 + 1024)) ≈ 0.02795 over 1.5 M draws.
        Assert.Equal(Math.Sqrt(2.0 / (1536 + 1024)), official.parameters().First().std().item<float>(), 3);
    }

    [Fact]
    public void LossIsTheTruncatedL1OfTheAdaptedFeaturesAndTheSameWithGaussianNoise()
    {
        using var detector = Readable();
        // Two positions of aggregated features [1, 16, 1, 2]; the discriminator reads channel 0: 0.2 and 0.9.
        var values = new float[32];
        values[0] = 0.2f;
        values[1] = 0.9f;
        using var features = tensor(values).reshape(1, 16, 1, 2);
        const long seed = 5;
        using var loss = detector.Loss(null, [features], new Generator(seed));

        // The noise is N(0, σ²) per value of the [positions, channels] rows, drawn from the step's generator.
        var noise = randn([2, 16], generator: new Generator(seed)).data<float>().ToArray();
        double sigma = detector.Options.NoiseStd, th = detector.Options.Margin;
        double normalTerm = (Math.Max(0, th - 0.2) + Math.Max(0, th - 0.9)) / 2;
        double anomalousTerm = (Math.Max(0, 0.2 + sigma * noise[0] + th) + Math.Max(0, 0.9 + sigma * noise[16] + th)) / 2;
        Assert.Equal(normalTerm + anomalousTerm, loss.item<float>(), 5);
    }

    [Fact]
    public void MapIsTheNegativeDiscriminatorScorePerPositionAndTheImageScoreItsGridMaximum()
    {
        using var detector = Readable();
        using var extractor = new RandomConvFeatureExtractor();
        var image = fixture.Data.Test[^1].LoadImage();
        // Patch 1, one layer, pooling lengths = channels, identity adaptor: position p's score is −(layer2 channel 0 at p).
        using var layer2 = extractor.Extract([image])[1][0]; // [16, 16, 16]
        var grid = (-layer2[0]).contiguous().data<float>().ToArray();
        var prediction = detector.Predict([image])[0];
        Assert.Equal(grid.Max(), prediction.Score, 5);
        var (_, view) = AnomalyMaps.ToImage(tensor(grid).reshape(16, 16), extractor.Preprocessing, image.Height, image.Width, detector.Options.MapSigma);
        for (int i = 0; i < view.Data.Length; i++) Assert.Equal(view.Data[i], prediction.View!.Data[i], 4);
        Assert.True(prediction.View!.Data.Max() < prediction.Score, "the image score is taken before smoothing");
    }

    /// <summary>
    /// A SimpleNet on the tiny random conv net whose networks compute something readable: layer2 alone with patch 1 and
    /// pooling lengths equal to its 16 channels (the raw features), the adaptor the identity, a discriminator of its
    /// linear tail alone reading channel 0.
    /// </summary>
    private static SimpleNetDetector Readable()
    {
        var options = new SimpleNetOptions
        {
            Layers = ["layer2"], PatchSize = 1, PretrainEmbedDimension = 16, TargetEmbedDimension = 16, DiscriminatorLayers = 1,
        };
        var detector = new SimpleNetDetector(new RandomConvFeatureExtractor(), options, seed: 0);
        using var noGrad = no_grad();
        var adaptor = detector.Trained.Single(m => m.Name == "adaptor").Module.parameters().ToArray();
        adaptor[0].copy_(eye(16));
        adaptor[1].zero_();
        var tail = detector.Trained.Single(m => m.Name == "discriminator").Module.parameters().Single();
        tail.zero_();
        tail[0, 0] = 1;
        foreach (var (_, module) in detector.Trained) module.eval();
        return detector;
    }
}
