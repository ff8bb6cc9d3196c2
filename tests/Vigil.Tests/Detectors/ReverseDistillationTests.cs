using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors;
using Vigil.Detectors.ReverseDistillation;
using Vigil.Imaging;
using Vigil.Registry;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Reverse Distillation's parts against the official code (hq-deng/RD4AD): the bottleneck and decoder have the
/// official layer sizes and parameter names and give back the encoder's shapes at each scale, the loss is main.py's
/// loss_fucntion (one cosine per flattened map) and the map test.py's cal_anomaly_map on hand-computed cases, and a
/// fitted detector's prediction is that map smoothed with σ = 4.
/// </summary>
public class ReverseDistillationTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    private static readonly ReverseDistillationOptions Defaults = new();

    /// <summary>A random conv net with ResNet18's layer1–3 widths (64/128/256 at strides 2/4/8) on 64 × 64 inputs: cheap, but the decoder must mirror it.</summary>
    private static RandomConvFeatureExtractor ResNet18Widths(int size = 64) =>
        new(seed: 2, new Preprocessing(size, size), stageChannels: [64, 128, 256, 512]);

    [Fact]
    public void TheDecoderGivesBackTheEncoderShapesAtEveryScale()
    {
        using var detector = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (_, m) in detector.Trained) m.eval();
        var images = Enumerable.Range(0, 2).Select(i => new ImageTensor(3, 64, 64, Enumerable.Repeat(0.1f * (i + 1), 3 * 64 * 64).ToArray())).ToList();
        var encoder = detector.Frozen(images).Take(3).ToArray();
        var decoder = detector.Reconstruct(encoder);
        Assert.Equal([[2, 64, 32, 32], [2, 128, 16, 16], [2, 256, 8, 8]], encoder.Select(f => f.shape));
        Assert.Equal(encoder.Select(f => f.shape), decoder.Select(f => f.shape));
    }

    [Theory]
    [InlineData("wide_resnet50_2")]
    [InlineData("resnet34")]
    public void TheBottleneckAndDecoderOfOtherResNetsMirrorTheirEncoders(string backbone)
    {
        var architecture = TorchBackbones.Architecture(backbone);
        using var network = new ReverseDistillationNetwork(architecture, seed: 1);
        var (bottleneck, decoder) = (network.Bottleneck, network.Decoder);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        int e = architecture.Expansion;
        Tensor[] encoder = [randn(1, 64 * e, 16, 16), randn(1, 128 * e, 8, 8), randn(1, 256 * e, 4, 4)];
        var embedding = bottleneck.call(encoder[0], encoder[1], encoder[2]);
        Assert.Equal([1, 512 * e, 2, 2], embedding.shape);
        Assert.Equal(encoder.Select(f => f.shape), decoder.call(embedding).Select(f => f.shape));
        Assert.Equal(encoder.Select(f => f.shape), network.call(encoder).Select(f => f.shape));
        // de_resnet.py builds as many blocks per decoder stage as the encoder's layer1, layer2, layer3 (3, 4, 6), resnet.py
        // BN_layer as many as layer4 (3).
        var keys = decoder.state_dict().Keys.Concat(bottleneck.state_dict().Keys.Select(k => "bn." + k)).ToHashSet();
        Assert.Contains($"layer3.{architecture.BlocksPerStage[2] - 1}.conv1.weight", keys);
        Assert.DoesNotContain($"layer3.{architecture.BlocksPerStage[2]}.conv1.weight", keys);
        Assert.Contains($"bn.bn_layer.{architecture.BlocksPerStage[3] - 1}.conv1.weight", keys);
        Assert.DoesNotContain($"bn.bn_layer.{architecture.BlocksPerStage[3]}.conv1.weight", keys);
    }

    [Fact]
    public void TheResNet18NetworksHaveTheOfficialNamesAndSizes()
    {
        using var detector = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 1);
        var modules = detector.Trained.ToDictionary(m => m.Name, m => m.Module);
        Assert.Equal(["bn", "decoder"], modules.Keys);
        var bn = modules["bn"].state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        var decoder = modules["decoder"].state_dict().ToDictionary(p => p.Key, p => p.Value.shape);

        // resnet.py BN_layer(AttnBasicBlock, 2): conv1 3×3 64→128 s2, conv2 128→256 s2, conv3 128→256 s2, then
        // _make_layer(512, 2, stride=2) over the 3·256 fused channels.
        Assert.Equal([128, 64, 3, 3], bn["conv1.weight"]);
        Assert.Equal([256, 128, 3, 3], bn["conv2.weight"]);
        Assert.Equal([256, 128, 3, 3], bn["conv3.weight"]);
        Assert.Equal([512, 768, 3, 3], bn["bn_layer.0.conv1.weight"]);
        Assert.Equal([512, 768, 1, 1], bn["bn_layer.0.downsample.0.weight"]);
        Assert.Equal([512], bn["bn_layer.0.downsample.1.running_var"]);
        Assert.Equal([512, 512, 3, 3], bn["bn_layer.1.conv2.weight"]);
        // conv1x1(1024·e, 512·e) and its BatchNorm: defined in BN_layer, never called by its forward.
        Assert.Equal([512, 1024, 1, 1], bn["conv4.weight"]);
        Assert.Equal([512], bn["bn4.running_mean"]);
        // de_resnet18: stride-2 blocks open with ConvTranspose2d(k=2, s=2) weights [in, out, 2, 2].
        Assert.Equal([512, 256, 2, 2], decoder["layer1.0.conv1.weight"]);
        Assert.Equal([512, 256, 2, 2], decoder["layer1.0.upsample.0.weight"]);
        Assert.Equal([256, 256, 3, 3], decoder["layer1.1.conv1.weight"]);
        Assert.Equal([256, 128, 2, 2], decoder["layer2.0.conv1.weight"]);
        Assert.Equal([128, 64, 2, 2], decoder["layer3.0.upsample.0.weight"]);
        Assert.Equal([64], decoder["layer3.1.bn2.running_mean"]);

        // Parameter counts by hand: convolutions in·out·k², BatchNorm 2·channels.
        long BasicBlock(long i, long o, long k1) => i * o * k1 * k1 + 2 * o + o * o * 9 + 2 * o;
        long bnCount = 64 * 128 * 9 + 256 + 2 * (128 * 256 * 9 + 512)
            + BasicBlock(768, 512, 3) + 768 * 512 + 1024 + BasicBlock(512, 512, 3) + 1024 * 512 + 1024;
        long DecoderStage(long i, long o) => BasicBlock(i, o, 2) + i * o * 4 + 2 * o + BasicBlock(o, o, 3);
        long decoderCount = DecoderStage(512, 256) + DecoderStage(256, 128) + DecoderStage(128, 64);
        Assert.Equal(bnCount, modules["bn"].parameters().Sum(p => p.numel()));
        Assert.Equal(decoderCount, modules["decoder"].parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TransposedConvolutionsKeepPyTorchsDefaultInitialisationAndConvolutionsGetKaimingFanOutFromTheSeed()
    {
        using var detector = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 1);
        using var same = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 1);
        using var other = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 2);
        var decoder = Decoder(detector);
        Assert.All(decoder, p => Assert.True(p.Value.allclose(Decoder(same)[p.Key], 0, 0), $"{p.Key} differs for the same seed"));
        Assert.False(decoder["layer1.0.conv1.weight"].allclose(Decoder(other)["layer1.0.conv1.weight"], 0, 0));
        Assert.False(decoder["layer1.0.conv2.weight"].allclose(Decoder(other)["layer1.0.conv2.weight"], 0, 0));
        // kaiming_uniform(a=√5) on a [512, 256, 2, 2] ConvTranspose2d weight: fan_in = 256·4, bound 1/√1024.
        var deconv = decoder["layer1.0.conv1.weight"].data<float>().ToArray();
        double bound = 1 / Math.Sqrt(256 * 4);
        Assert.True(deconv.Max(Math.Abs) <= bound);
        Assert.Equal(bound / Math.Sqrt(3), StandardDeviation(deconv), bound / Math.Sqrt(3) * 0.02);
        // kaiming_normal(fan_out) on a [256, 256, 3, 3] Conv2d: std √(2 / (256·9)).
        var conv = decoder["layer1.0.conv2.weight"].data<float>().ToArray();
        Assert.Equal(Math.Sqrt(2.0 / (256 * 9)), StandardDeviation(conv), Math.Sqrt(2.0 / (256 * 9)) * 0.02);
    }

    [Fact]
    public void TheLossIsZeroForAPerfectReconstruction()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(5);
        Tensor[] features = [randn([3, 8, 4, 4], generator: generator), randn([3, 16, 2, 2], generator: generator)];
        Assert.Equal(0, ReverseDistillationLoss.Compute(features, features.Select(f => f.clone()).ToArray()).item<float>(), 1e-6);
        Assert.Equal(2 * 2.0, ReverseDistillationLoss.Compute(features, features.Select(f => -f).ToArray()).item<float>(), 1e-5);
    }

    [Fact]
    public void TheLossIsOneCosinePerFlattenedMapAveragedOverImagesAndSummedOverLayers()
    {
        using var scope = NewDisposeScope();
        // Layer A, [2 images, 2 channels, 1, 2 positions], flattened channel-major: image 0 a = (1, 0, 0, 1), b = (2, 0, 0, 1):
        // every position's own cosine is 1, the flattened one 3/√10; image 1 a = (1, 0, 0, 0), b = (0, 1, 0, 0): cosine 0.
        var a1 = tensor(new float[] { 1, 0, 0, 1, 1, 0, 0, 0 }).reshape(2, 2, 1, 2);
        var b1 = tensor(new float[] { 2, 0, 0, 1, 0, 1, 0, 0 }).reshape(2, 2, 1, 2);
        // Layer B, [2, 1, 1, 1]: (3 vs 1) cosine 1, (−1 vs 2) cosine −1.
        var a2 = tensor(new float[] { 3, -1 }).reshape(2, 1, 1, 1);
        var b2 = tensor(new float[] { 1, 2 }).reshape(2, 1, 1, 1);
        double expected = ((1 - 3 / Math.Sqrt(10)) + 1) / 2 + (0 + 2) / 2.0;
        Assert.Equal(expected, ReverseDistillationLoss.Compute([a1, a2], [b1, b2]).item<float>(), 1e-6);
    }

    [Fact]
    public void TheMapIsOneMinusThePositionCosineUpsampledWithAlignedCornersAndSummed()
    {
        using var scope = NewDisposeScope();
        // A 2 × 2 layer, position (y, x) of a and b along 2 channels: (0,0) (1,0)·(1,0) → 0; (0,1) (1,0)·(0,1) → 1;
        // (1,0) (1,1)·(1,0) → 1 − 1/√2; (1,1) (1,0)·(−1,0) → 2. Channel-major storage: channel 0 then channel 1.
        var a1 = tensor(new float[] { 1, 1, 1, 1, /* channel 1 */ 0, 0, 1, 0 }).reshape(1, 2, 2, 2);
        var b1 = tensor(new float[] { 1, 0, 1, -1, /* channel 1 */ 0, 1, 0, 0 }).reshape(1, 2, 2, 2);
        // A 1 × 1 layer: (3, 4)·(4, 3) → 1 − 24/25, the same at every output pixel.
        var a2 = tensor(new float[] { 3, 4 }).reshape(1, 2, 1, 1);
        var b2 = tensor(new float[] { 4, 3 }).reshape(1, 2, 1, 1);
        double v00 = 0, v01 = 1, v10 = 1 - 1 / Math.Sqrt(2), v11 = 2, c = 1 - 24 / 25.0;
        // Bilinear 2 → 4 with align_corners=True: output pixel i sits at grid coordinate i / 3 (corners on corners;
        // align_corners=False would put it at (i + 0.5) / 2 − 0.5, clamped).
        var map = ReverseDistillationMap.Compute([a1, a2], [b1, b2], 4, 4);
        Assert.Equal([1, 4, 4], map.shape);
        var actual = map.data<float>().ToArray();
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                double ty = y / 3.0, tx = x / 3.0;
                double expected = (1 - ty) * (1 - tx) * v00 + (1 - ty) * tx * v01 + ty * (1 - tx) * v10 + ty * tx * v11;
                Assert.Equal(expected + c, actual[y * 4 + x], 1e-6);
            }
    }

    [Fact]
    public void APredictionIsTheSummedMapSmoothedWithSigmaFourAndItsMaximum()
    {
        var model = DetectorRegistry.Parse("rd4ad:epochs=1,batch=4");
        using var detector = (ReverseDistillationDetector)model.CreateTrainer().Fit(new TrainingData(fixture.Data.Train),
            new TrainingContext(0, DetectorContractTests.Check.BackboneFor(model), null, default));
        var image = fixture.Data.Test[^1].LoadImage();
        var prediction = detector.Predict(image);

        int h = detector.Preprocessing.OutputHeight, w = detector.Preprocessing.OutputWidth;
        float[] raw;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            var encoder = detector.Frozen([ImageOps.ToRgb(image, "The image")]);
            raw = ReverseDistillationMap.Compute(encoder, detector.Reconstruct(encoder), h, w).data<float>().ToArray();
        }
        var smoothed = GaussianBlur.Apply(raw, h, w, 4);
        Assert.Equal((h, w), (prediction.View!.Height, prediction.View.Width));
        for (int i = 0; i < smoothed.Length; i++) Assert.Equal(smoothed[i], prediction.View.Data[i], 1e-5f);
        Assert.Equal(smoothed.Max(), prediction.Score, 1e-5f);
    }

    [Fact]
    public void TrainingMovesTheNetworksButNotTheUnusedConv4AndBn4()
    {
        var model = DetectorRegistry.Parse("rd4ad:epochs=1,batch=6");
        using var trained = (ReverseDistillationDetector)model.CreateTrainer().Fit(new TrainingData(fixture.Data.Train),
            new TrainingContext(0, DetectorContractTests.Check.BackboneFor(model), null, default));
        using var initial = new ReverseDistillationDetector(ResNet18Widths(), Defaults, seed: 0);
        var before = initial.Trained.SelectMany(m => m.Module.state_dict().Select(p => ($"{m.Name}.{p.Key}", p.Value))).ToDictionary();
        var after = trained.Trained.SelectMany(m => m.Module.state_dict().Select(p => ($"{m.Name}.{p.Key}", p.Value))).ToDictionary();
        Assert.Equal(before.Keys, after.Keys);
        foreach (var key in new[] { "bn.conv4.weight", "bn.bn4.weight", "bn.bn4.bias", "bn.bn4.running_mean", "bn.bn4.running_var" })
            Assert.True(before[key].allclose(after[key], 0, 0), $"{key} changed, but BN_layer's forward never uses it");
        foreach (var key in new[] { "bn.conv1.weight", "bn.bn_layer.1.conv2.weight", "bn.bn1.running_mean", "decoder.layer1.0.conv1.weight", "decoder.layer3.1.bn2.bias" })
            Assert.False(before[key].allclose(after[key], 0, 0), $"{key} did not change in training");
    }

    [Fact]
    public void TheDefaultsAreTheOfficialTrainingAndEvaluationSettings()
    {
        // main.py train(): epochs 200, learning_rate 0.005, batch_size 16, Adam betas (0.5, 0.999); the checkpoint written
        // last (epoch 200) is the one evaluated; no validation split. test.py evaluation: gaussian_filter(sigma=4).
        Assert.Equal((200, 16, OptimizerKind.Adam, 0.005, 0.5, 0.999, 0.0), (Defaults.Epochs, Defaults.BatchSize, Defaults.Optimizer,
            Defaults.LearningRate, Defaults.Beta1, Defaults.Beta2, Defaults.WeightDecay));
        Assert.Equal((ScheduleKind.Constant, KeepWeights.Last, 0.0, 4.0),
            (Defaults.Schedule, Defaults.Keep, Defaults.ValidationRatio, Defaults.MapSigma));
        // dataset.py get_data_transforms(256, 256): a 256 × 256 stretch.
        var input = new ReverseDistillationModule().Info.ReferenceInput!;
        Assert.Equal((ResizeMode.Stretch, 256, (int?)null), (input.Mode, input.Resize, input.Crop));
        var cpu = (ReverseDistillationOptions)DetectorRegistry.Parse("rd4ad-cpu").Options;
        Assert.True(cpu.Epochs < Defaults.Epochs && cpu.ValidationRatio > 0 && cpu.Patience is not null);
        Assert.Equal((Defaults.LearningRate, Defaults.BatchSize), (cpu.LearningRate, cpu.BatchSize));
    }

    [Fact]
    public void AnEncoderItCannotMirrorOrAnInputOffTheGridIsAClearError()
    {
        var channels = Assert.Throws<VigilInputException>(() => new ReverseDistillationDetector(new RandomConvFeatureExtractor(), Defaults, seed: 0));
        Assert.Contains("64 channels", channels.Message);
        var size = Assert.Throws<VigilInputException>(() => new ReverseDistillationDetector(ResNet18Widths(size: 72), Defaults, seed: 0));
        Assert.Contains("multiple of 16", size.Message);
    }

    private static Dictionary<string, Tensor> Decoder(ReverseDistillationDetector detector) =>
        detector.Trained.Single(m => m.Name == "decoder").Module.state_dict();

    private static double StandardDeviation(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }
}
