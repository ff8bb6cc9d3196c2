using TorchSharp;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.DevNet;
using Vigil.Imaging;
using Vigil.Tests.Detectors;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Tests.Training;

/// <summary>
/// The training loop with a supervised network (<see cref="ISupervisedNetwork"/>): every batch is half normal images then
/// half labelled anomalies, each label belongs to its image, each side runs through all its images before repeating one,
/// and an epoch has the network's number of steps, the same for the same seed.
/// </summary>
public sealed class SupervisedTrainingTests : IDisposable
{
    private const int Normals = 5, Anomalies = 3;
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-supervised-").FullName;

    /// <summary>
    /// Uniform images whose grey level names them: normal i at 10 + i, anomaly j at 200 + j (of 255); anomalies get
    /// a mask whose left half is defective when <paramref name="masked"/>.
    /// </summary>
    private Sample Image(int level, bool anomalous, bool masked = false)
    {
        var image = new ImageTensor(3, 8, 8);
        Array.Fill(image.Data, level / 255f);
        var path = Path.Combine(_folder, $"{level}.png");
        ImageIO.Write(image, path);
        MaskFile? mask = null;
        if (masked)
        {
            var pixels = new BinaryMask(8, 8);
            for (int y = 0; y < 8; y++) for (int x = 0; x < 4; x++) pixels[y, x] = true;
            mask = new MaskFile(Path.Combine(_folder, $"{level}_mask.png"));
            ImageIO.WriteMask(pixels, mask.Path);
        }
        return new Sample(path, anomalous ? SampleLabel.Anomalous : SampleLabel.Normal, anomalous ? "defect" : "good", "test", "grey", mask);
    }

    private Recorder Train(long seed)
    {
        var data = new TrainingData(Enumerable.Range(0, Normals).Select(i => Image(10 + i, false)).ToList())
        {
            Anomalies = Enumerable.Range(0, Anomalies).Select(j => Image(200 + j, true)).ToList(),
        };
        var options = new DevNetOptions { Epochs = 2, BatchSize = 4, Augment = "none", StepsPerEpoch = 3 };
        var network = new Recorder(options.StepsPerEpoch);
        new GradientTrainer(options).Run(network, data, new TrainingContext(seed, new TestBackbone()), "recorder");
        return network;
    }

    [Fact]
    public void BatchesAreHalfNormalHalfAnomaliesWithEachImagesOwnLabel()
    {
        var batches = Train(seed: 3).Batches;
        Assert.Equal(2 * 3, batches.Count);
        foreach (var (levels, labels) in batches)
        {
            Assert.Equal([0f, 0f, 1f, 1f], labels);
            Assert.All(levels[..2], level => Assert.InRange(level, 10, 10 + Normals - 1));
            Assert.All(levels[2..], level => Assert.InRange(level, 200, 200 + Anomalies - 1));
        }
        // Per epoch 3 steps draw 6 normal images (a permutation of the 5, then one more) and 6 anomalies (two permutations of the 3).
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var epochBatches = batches.Skip(3 * epoch).Take(3).ToList();
            var normal = epochBatches.SelectMany(b => b.Levels[..2]).ToList();
            var anomalous = epochBatches.SelectMany(b => b.Levels[2..]).ToList();
            Assert.Equal(Enumerable.Range(10, Normals), normal.Take(Normals).Order());
            Assert.Equal(Enumerable.Range(200, Anomalies), anomalous.Take(Anomalies).Order());
            Assert.Equal(Enumerable.Range(200, Anomalies), anomalous.Skip(Anomalies).Order());
        }
        Assert.Equal(batches.Select(b => string.Join(",", b.Levels)), Train(seed: 3).Batches.Select(b => string.Join(",", b.Levels)));
    }

    [Fact]
    public void ABalancedSamplingOfTwoThirdsTakesTwoNormalImagesPerThreeAsDrasSampler()
    {
        // dataloaders/utlis.py (DRA): n_normal = 2 · batch_size // 3; with batch 7: 4 normal images, then 3 anomalies.
        var data = new TrainingData(Enumerable.Range(0, Normals).Select(i => Image(10 + i, false)).ToList())
        {
            Anomalies = Enumerable.Range(0, Anomalies).Select(j => Image(200 + j, true)).ToList(),
        };
        var network = new Recorder(new BalancedSampling(2, NormalParts: 2, AllParts: 3));
        new GradientTrainer(new DevNetOptions { Epochs = 1, BatchSize = 7, Augment = "none" }).Run(network, data, new TrainingContext(1, new TestBackbone()), "recorder");
        Assert.Equal(2, network.Batches.Count);
        foreach (var (levels, labels) in network.Batches)
        {
            Assert.Equal([0f, 0f, 0f, 0f, 1f, 1f, 1f], labels);
            Assert.All(levels[..4], level => Assert.InRange(level, 10, 10 + Normals - 1));
            Assert.All(levels[4..], level => Assert.InRange(level, 200, 200 + Anomalies - 1));
        }
    }

    [Fact]
    public void StartAndFinishSeeTheNormalTrainingImagesOnly()
    {
        // Statistics a network takes from its training images before and after training (CFA's memory, CFlow's
        // normalisation) describe normal data: the labelled anomalies stay out.
        var network = Train(seed: 3);
        Assert.Equal(Enumerable.Range(10, Normals), network.Started);
        Assert.Equal(Enumerable.Range(10, Normals), network.Finished);
    }

    [Fact]
    public void PooledEpochsPassOverNormalsThenNormalsAndRepeatedAnomaliesWithTheirMasks()
    {
        // 3 epochs of batches of 4; the first sees the 5 normal images alone (2 unlabelled batches), the next two each
        // the 5 normals once and the 3 anomalies twice (11 samples: 3 batches).
        var data = new TrainingData(Enumerable.Range(0, Normals).Select(i => Image(10 + i, false)).ToList())
        {
            Anomalies = Enumerable.Range(0, Anomalies).Select(j => Image(200 + j, true, masked: true)).ToList(),
        };
        var network = new Recorder(new PooledSampling(AnomalyRepeats: 2, NormalOnlyEpochs: 1)) { Masked = true };
        new GradientTrainer(new DevNetOptions { Epochs = 3, BatchSize = 4, Augment = "none" }).Run(network, data, new TrainingContext(5, new TestBackbone()), "pooled");

        Assert.Equal([10, 11, 12, 13, 14], network.Unlabelled.SelectMany(b => b).Order());
        Assert.Equal(2, network.Unlabelled.Count);
        Assert.Equal(6, network.Batches.Count);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var levels = network.Batches.Skip(3 * epoch).Take(3).SelectMany(b => b.Levels).Order().ToList();
            Assert.Equal([10, 11, 12, 13, 14, 200, 200, 201, 201, 202, 202], levels);
        }
        foreach (var (levels, labels) in network.Batches)
            Assert.Equal(levels.Select(l => l >= 200 ? 1f : 0f), labels);
        // Each anomaly's mask at the input size: its left half; normal images' masks are empty.
        foreach (var (levels, defectiveShare) in network.MaskShares)
            for (int k = 0; k < levels.Length; k++) Assert.Equal(levels[k] >= 200 ? 0.5 : 0.0, defectiveShare[k], 6);
    }

    [Fact]
    public void AMaskedNetworkRefusesAnAnomalyWithoutAMaskNamingIt()
    {
        var unmasked = Image(200, true);
        var data = new TrainingData([Image(10, false)]) { Anomalies = [unmasked] };
        var network = new Recorder(new PooledSampling(1, 0)) { Masked = true };
        var error = Assert.Throws<VigilInputException>(() =>
            new GradientTrainer(new DevNetOptions { Epochs = 1, BatchSize = 2, Augment = "none" }).Run(network, data, new TrainingContext(0, new TestBackbone()), "unmasked"));
        Assert.Contains(unmasked.SourcePath, error.Message);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A one-weight network whose frozen "features" are each image's grey level; it records every batch it is trained on.</summary>
    private sealed class Recorder(SupervisedSampling sampling) : ISupervisedNetwork
    {
        private readonly TorchSharp.Modules.Linear _weight = nn.Linear(1, 1);

        public Recorder(int steps) : this(new BalancedSampling(steps)) { }

        public List<(int[] Levels, float[] Labels)> Batches { get; } = [];
        public List<int[]> Unlabelled { get; } = [];
        public List<(int[] Levels, double[] DefectiveShare)> MaskShares { get; } = [];
        public List<int> Started { get; } = [];
        public List<int> Finished { get; } = [];
        public bool Masked { get; init; }
        public SupervisedSampling Sampling => sampling;
        public bool NeedsMasks => Masked;
        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("weight", _weight)];
        public Preprocessing Preprocessing { get; } = new FeatureExtractorOptions().Preprocessing();
        public bool NeedsImages => false;

        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images) =>
            [tensor(images.Select(i => i.Data[0]).ToArray(), [images.Count, 1])];

        public void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step)
        {
            Batches.Add((Levels(batch), labels.data<float>().ToArray()));
            if (batch.Masks is { } masks) MaskShares.Add((Levels(batch), masks.mean([1, 2, 3]).data<float>().Select(v => (double)v).ToArray()));
            step(_weight.forward(batch.Frozen[0]).mean());
        }

        public void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step)
        {
            Unlabelled.Add(Levels(new TrainingBatch(images, frozen)));
            step(_weight.forward(frozen[0]).mean());
        }

        public void StartTraining(IEnumerable<TrainingBatch> training) => Started.AddRange(training.SelectMany(Levels));
        public void FinishTraining(IEnumerable<TrainingBatch> training) => Finished.AddRange(training.SelectMany(Levels));
        private static int[] Levels(TrainingBatch batch) => batch.Frozen[0].data<float>().Select(v => (int)Math.Round(v * 255)).ToArray();

        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => throw new InvalidOperationException("trained with labels");
        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => throw new InvalidOperationException("no validation");
    }
}
