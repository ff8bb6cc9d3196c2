using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Stpm;
using Vigil.Detectors.Trained;
using Vigil.Registry;
using Vigil.Settings;
using Vigil.Tests.Detectors;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Tests.Training;

/// <summary>
/// The shared training loop, through STPM on small textures: an interrupted and resumed training is the uninterrupted
/// one, bit for bit; early stopping keeps the best epoch's weights; cached and recomputed inputs agree; the schedule is
/// the formula; bad options are clear errors.
/// </summary>
public class GradientTrainingTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    private static ModelSpec Stpm(string options) => DetectorRegistry.Parse("stpm:" + options);

    private static TrainedDetector Fit(ModelSpec model, IReadOnlyList<Sample> train, long seed = 0, ICheckpointStore? store = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancel = default, IReadOnlyList<Sample>? validation = null) =>
        (TrainedDetector)model.CreateTrainer().Fit(new TrainingData(train) { Validation = validation ?? [] },
            new TrainingContext(seed, DetectorContractTests.Check.BackboneFor(model), progress, cancel, store));

    private static CheckpointFile TemporaryCheckpoint() =>
        new(Path.Combine(Path.GetTempPath(), $"vigil-checkpoint-{Guid.NewGuid():N}", "cell.ckpt"));

    /// <remarks>
    /// SimpleNet: two optimizers (AdamW on the adaptor, Adam on the discriminator), both in the checkpoint. CFA: the memory
    /// set before the first step (StartTraining) comes back from the checkpoint, not from the partly trained descriptor.
    /// IGD: generator and critic stepped in turn, and the Gaussian descriptor re-estimated after every epoch (FinishEpoch).
    /// </remarks>
    [Theory]
    [InlineData("stpm:", "none")]
    [InlineData("stpm:", "flip+rotation")]
    [InlineData("simplenet:pretrain_dim=64,target_dim=64,disc_hidden=32,", "none")]
    [InlineData("cfa:", "none")]
    [InlineData("igd:width=4,latent=8,center_every=1,msssim_weights=0.0448+0.2856+0.3001+0.2363,", "none")]
    public void AnInterruptedAndResumedTrainingEndsWithTheUninterruptedWeights(string modelAndOptions, string augment)
    {
        var model = DetectorRegistry.Parse($"{modelAndOptions}epochs=3,batch=4,validation=0.25,augment={augment}");
        var train = fixture.Data.Train;
        using var uninterrupted = Fit(model, train);

        var store = TemporaryCheckpoint();
        try
        {
            // 9 training images in batches of 4: 3 steps per epoch. Stopped after the 4th step, i.e. inside epoch 2.
            using var cancel = new CancellationTokenSource();
            int steps = 0;
            var stopAfterFourSteps = new OnReport(p => { if (p.Phase == "train" && ++steps == 4) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => Fit(model, train, store: store, progress: stopAfterFourSteps, cancel: cancel.Token));
            Assert.True(File.Exists(store.Location), "no checkpoint was saved on cancellation");

            int resumedSteps = 0;
            using var resumed = Fit(model, train, store: store, progress: new OnReport(p => { if (p.Phase == "train") resumedSteps++; }));
            Assert.Equal(9 - 4, resumedSteps);
            Assert.Contains(resumed.Training!.Notes, n => n.StartsWith("Resumed from the checkpoint at epoch 2, step 2", StringComparison.Ordinal));
            Assert.False(File.Exists(store.Location), "a finished training leaves its checkpoint behind");
            AssertSameWeights(uninterrupted, resumed);
            Assert.Equal(uninterrupted.Training!.Epochs.Select(e => (e.Loss, e.ValidationLoss, e.LearningRate)),
                resumed.Training.Epochs.Select(e => (e.Loss, e.ValidationLoss, e.LearningRate)));
            Assert.Equal(uninterrupted.Training.KeptEpoch, resumed.Training.KeptEpoch);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(store.Location)!, recursive: true);
        }
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsNotResumed()
    {
        var store = TemporaryCheckpoint();
        try
        {
            using var cancel = new CancellationTokenSource();
            var stopAtOnce = new OnReport(p => { if (p.Phase == "train") cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => Fit(Stpm("epochs=2,batch=4"), fixture.Data.Train, store: store, progress: stopAtOnce, cancel: cancel.Token));
            Assert.True(File.Exists(store.Location));

            using var otherSeed = Fit(Stpm("epochs=2,batch=4"), fixture.Data.Train, seed: 5, store: store);
            Assert.Contains(otherSeed.Training!.Notes, n => n.Contains("was of another run", StringComparison.Ordinal));
            using var fresh = Fit(Stpm("epochs=2,batch=4"), fixture.Data.Train, seed: 5);
            AssertSameWeights(fresh, otherSeed);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(store.Location)!, recursive: true);
        }
    }

    [Fact]
    public void TrainingLowersTheLossAndLogsEveryEpoch()
    {
        using var detector = Fit(Stpm("epochs=5,batch=4,validation=0"), fixture.Data.Train);
        var log = detector.Training!;
        Assert.Equal(5, log.Epochs.Count);
        Assert.Equal([1, 2, 3, 4, 5], log.Epochs.Select(e => e.Epoch));
        Assert.All(log.Epochs, e => Assert.Null(e.ValidationLoss));
        Assert.True(log.Epochs[^1].Loss < 0.8 * log.Epochs[0].Loss, $"loss {log.Epochs[0].Loss} → {log.Epochs[^1].Loss}");
        Assert.Equal(5, log.KeptEpoch); // without validation images the last epoch's weights are kept
        Assert.Equal((12, 0, true), (log.TrainImages, log.ValidationImages, log.FrozenFeaturesCached));
    }

    [Fact]
    public void EarlyStoppingStopsAfterThePatienceAndKeepsTheBestEpochsWeights()
    {
        // One weight w = 0 pulled towards 3 by the loss (w − 3)², validated on (w − 1)². Plain SGD at rate 0.1 with the
        // whole set in one step multiplies w − 3 by 0.8 per epoch: w = 0.6, 1.08, 1.464, 1.771, … The validation loss is
        // lowest after epoch 2 (0.0064); with patience 2, epochs 3 and 4 do no better and training stops after epoch 4.
        var options = new StpmOptions { Epochs = 30, BatchSize = 100, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0, WeightDecay = 0, Patience = 2 };
        var network = new OneWeight();
        var data = new TrainingData(fixture.Data.Train.Skip(2).ToList()) { Validation = fixture.Data.Train.Take(2).ToList() };
        var log = new GradientTrainer(options).Run(network, data, new TrainingContext(0, new TestBackbone()), "one weight");

        Assert.Equal(4, log.Epochs.Count);
        Assert.Equal(2, log.KeptEpoch);
        Assert.Contains("no lower validation loss for 2 epochs", log.StopReason);
        double[] w = [0.6, 1.08, 1.464, 1.7712];
        for (int e = 0; e < 4; e++)
            Assert.Equal((w[e] - 1) * (w[e] - 1), log.Epochs[e].ValidationLoss!.Value, 1e-5);
        Assert.Equal(9, log.Epochs[0].Loss, 1e-5); // (0 − 3)² before the first step
        Assert.Equal(1.08, network.Weight.item<float>(), 1e-5); // the best epoch's weight, not the last one's
    }

    [Fact]
    public void ATrainingThatEndsBeforeItsFirstCheckpointFinishes()
    {
        // One epoch: no checkpoint is ever written (none after the last epoch), so there is none, nor its folder, to delete.
        var options = new StpmOptions { Epochs = 1, BatchSize = 100, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1 };
        var store = TemporaryCheckpoint();
        var log = new GradientTrainer(options).Run(new OneWeight(), new TrainingData(fixture.Data.Train),
            new TrainingContext(0, new TestBackbone(), Checkpoints: store), "one epoch");
        Assert.Single(log.Epochs);
        Assert.False(File.Exists(store.Location));
    }

    /// <summary>A network of one trained weight whose losses are quadratics in it (the images are loaded but unused).</summary>
    private sealed class OneWeight : ITrainableNetwork
    {
        private readonly TorchSharp.Modules.Linear _module = nn.Linear(1, 1, hasBias: false);

        public OneWeight()
        {
            using var noGrad = no_grad();
            _module.weight!.zero_();
        }

        public Tensor Weight => _module.weight!;
        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("w", _module)];
        public Vigil.Imaging.Preprocessing Preprocessing { get; } = new(8, 8);
        public bool NeedsImages => false;
        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<Vigil.Imaging.ImageTensor> images) => [zeros(images.Count, 1)];
        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => (Weight - 3).square().sum();
        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => (Weight - 1).square().sum();
    }

    [Fact]
    public void AnEpochOfFixedStepsCyclesThroughTheImages()
    {
        // 9 images, 5 steps of 4 an epoch (CutPaste's epochs are steps, not passes): 20 draws = two whole permutations
        // and 2 images of a third, so every image is drawn 2 or 3 times, exactly two of them 3 times.
        var options = new StpmOptions { Epochs = 2, BatchSize = 4, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, ValidationRatio = 0 };
        var network = new DrawRecorder();
        var train = fixture.Data.Train.Take(9).ToList();
        new GradientTrainer(options).Run(network, new TrainingData(train), new TrainingContext(0, new TestBackbone()), "draws");
        Assert.Equal(10, network.Batches.Count);
        Assert.All(network.Batches, b => Assert.Equal(4, b.Length));
        foreach (var epoch in network.Batches.Chunk(5))
        {
            var counts = epoch.SelectMany(b => b).GroupBy(v => v).Select(g => g.Count()).ToList();
            Assert.Equal(9, counts.Count);
            Assert.All(counts, c => Assert.InRange(c, 2, 3));
            Assert.Equal(2, counts.Count(c => c == 3));
        }
    }

    /// <summary>A network of fixed steps per epoch that records each batch's images (by their mean value).</summary>
    private sealed class DrawRecorder : ITrainableNetwork
    {
        private readonly TorchSharp.Modules.Linear _module = nn.Linear(1, 1, hasBias: false);
        public List<float[]> Batches { get; } = [];
        public int? BatchesPerEpoch => 5;
        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("w", _module)];
        public Vigil.Imaging.Preprocessing Preprocessing { get; } = new(8, 8);
        public bool NeedsImages => false;
        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<Vigil.Imaging.ImageTensor> images) => [tensor(images.Select(i => i.Data.Average()).ToArray())];

        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
        {
            Batches.Add(frozen[0].data<float>().ToArray());
            return _module.weight!.square().sum();
        }

        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Loss(images, frozen, generator);
    }

    [Fact]
    public void CachedInputsAreTheInputsComputedAsDrawn()
    {
        using var detector = Fit(Stpm("epochs=1,batch=4,validation=0"), fixture.Data.Train);
        var samples = fixture.Data.Train.Take(5).ToList();
        using var cached = TrainingInputs.Prepare(detector, samples, AugmentationKinds.None, 0, "", null, default);
        using var computed = TrainingInputs.Prepare(detector, samples, AugmentationKinds.None, 0, "", null, default, cacheBudget: 0);
        Assert.True(cached.Cached);
        Assert.False(computed.Cached);
        int[] indices = [4, 0, 2];
        var a = cached.Batch(indices, epoch: 3);
        var b = computed.Batch(indices, epoch: 3);
        Assert.True(a.Images!.allclose(b.Images!, rtol: 0, atol: 0), "preprocessed images differ");
        foreach (var (x, y) in a.Frozen.Zip(b.Frozen))
            Assert.True(x.allclose(y, rtol: 1e-5, atol: 1e-5), "frozen features differ");
        using var augmented = TrainingInputs.Prepare(detector, samples, AugmentationKinds.Flip, 0, "", null, default);
        Assert.False(augmented.Cached); // augmented images differ per epoch: nothing to cache
    }

    [Fact]
    public void TheLearningRateFollowsWarmUpThenTheSchedule()
    {
        var constant = new StpmOptions { LearningRate = 1, Epochs = 10, WarmupEpochs = 2, Schedule = ScheduleKind.Constant };
        Assert.Equal(0, LearningRateSchedule.At(constant, 0, 0));
        Assert.Equal(0.75, LearningRateSchedule.At(constant, 1, 0.5), 12); // 1.5 of 2 warm-up epochs
        Assert.Equal(1, LearningRateSchedule.At(constant, 7, 0.3));

        var step = constant with { Schedule = ScheduleKind.Step, StepSize = 3, Gamma = 0.1 };
        Assert.Equal(1, LearningRateSchedule.At(step, 4, 0.9), 12);   // epochs 2–4 after warm-up: step 0
        Assert.Equal(0.1, LearningRateSchedule.At(step, 5, 0), 12);   // epochs 5–7: step 1
        Assert.Equal(0.01, LearningRateSchedule.At(step, 8, 0), 12);

        var cosine = constant with { Schedule = ScheduleKind.Cosine };
        Assert.Equal(1, LearningRateSchedule.At(cosine, 2, 0), 12);
        Assert.Equal(0.5, LearningRateSchedule.At(cosine, 6, 0), 12); // half of the 8 cosine epochs: ½(1 + cos π/2)
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 7.5 / 8)), LearningRateSchedule.At(cosine, 9, 0.5), 12);
    }

    [Fact]
    public void AnAlternatingNetworksStepsUpdateOnlyTheModulesTheyName()
    {
        // a = 1, b = 2, plain SGD at rate 0.1 (b's own optimizer too), the whole set in one step per epoch. Step 1 on a·b
        // names a: a ← 1 − 0.1 · b = 0.8, b unchanged although a·b has a gradient in b. Step 2 on b² names b:
        // b ← 2 − 0.1 · 2b = 1.6, a unchanged; epoch 2: a ← 0.8 − 0.1 · 1.6 = 0.64, b ← 1.6 − 0.1 · 3.2 = 1.28. The epoch
        // hook sees every epoch, after its steps.
        var options = new StpmOptions { Epochs = 2, BatchSize = 100, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0, WeightDecay = 0 };
        var network = new TwoWeights();
        var log = new GradientTrainer(options).Run(network, new TrainingData(fixture.Data.Train), new TrainingContext(0, new TestBackbone()), "two weights");
        Assert.Equal(2, log.Epochs.Count);
        Assert.Equal([(1, 0.8f, 1.6f), (2, 0.64f, 1.28f)], network.AfterEpochs.Select(e => (e.Epoch, Round(e.A), Round(e.B))));
        Assert.Equal((2 + 4) / 2.0, log.Epochs[0].Loss, 5); // the mean of the batch's two step losses: a·b = 2, then b² = 4

        var partial = new TwoWeights(ownB: false);
        var error = Assert.Throws<InvalidOperationException>(() =>
            new GradientTrainer(options).Run(partial, new TrainingData(fixture.Data.Train), new TrainingContext(0, new TestBackbone()), "shared"));
        Assert.Contains("only some of the modules sharing an optimizer", error.Message);
    }

    private static float Round(float value) => MathF.Round(value, 5);

    /// <summary>Two trained weights a and b stepped in turn (a on a·b, then b on b²); with <c>ownB</c> false they share one optimizer.</summary>
    private sealed class TwoWeights(bool ownB = true) : IAlternatingNetwork
    {
        private readonly TorchSharp.Modules.Linear _a = Weight(1), _b = Weight(2);
        public List<(int Epoch, float A, float B)> AfterEpochs { get; } = [];

        private static TorchSharp.Modules.Linear Weight(float value)
        {
            var module = nn.Linear(1, 1, hasBias: false);
            using var noGrad = no_grad();
            module.weight!.fill_(value);
            return module;
        }

        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("a", _a), ("b", _b)];
        public IReadOnlyDictionary<string, OptimizerSettings> OwnOptimizers => ownB
            ? new Dictionary<string, OptimizerSettings> { ["b"] = new(OptimizerKind.Sgd, 0.1, 0) }
            : new Dictionary<string, OptimizerSettings>();
        public Vigil.Imaging.Preprocessing Preprocessing { get; } = new(8, 8);
        public bool NeedsImages => false;
        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<Vigil.Imaging.ImageTensor> images) => [zeros(images.Count, 1)];
        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => (_a.weight! * _b.weight!).sum();
        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Loss(images, frozen, generator);

        public void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor, IReadOnlyCollection<string>> step)
        {
            step(Loss(images, frozen, generator), ["a"]);
            step(_b.weight!.square().sum(), ["b"]);
        }

        public void FinishEpoch(int epochsDone, IEnumerable<TrainingBatch> training) =>
            AfterEpochs.Add((epochsDone, _a.weight!.item<float>(), _b.weight!.item<float>()));
    }

    [Theory]
    [InlineData("stpm:optimizer=rmsprop", "sgd|adam|adamw")]
    [InlineData("stpm:augment=blur", "Augmentation 'blur' is unknown")]
    [InlineData("stpm:warmup=100", "warmup=100 must be in [0, epochs)")]
    [InlineData("stpm:validation=1", "validation=1 must be in [0, 1)")]
    [InlineData("stpm:epochs=0", "epochs=0 must be at least 1")]
    public void BadTrainingOptionsAreClearErrors(string spec, string message)
    {
        var error = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse(spec));
        Assert.Contains(message, error.Message);
    }

    private static void AssertSameWeights(TrainedDetector expected, TrainedDetector actual)
    {
        foreach (var ((name, a), (_, b)) in expected.Trained.Zip(actual.Trained))
        {
            var sa = a.state_dict();
            var sb = b.state_dict();
            Assert.Equal(sa.Keys, sb.Keys);
            foreach (var key in sa.Keys)
                Assert.True(sa[key].eq(sb[key]).all().item<bool>(), $"{name}.{key} differs");
        }
    }

    private sealed class OnReport(Action<WorkProgress> action) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => action(value);
    }
}
