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

    /// <summary>Uniform images whose grey level names them: normal i at 10 + i, anomaly j at 200 + j (of 255).</summary>
    private Sample Image(int level, bool anomalous)
    {
        var image = new ImageTensor(3, 8, 8);
        Array.Fill(image.Data, level / 255f);
        var path = Path.Combine(_folder, $"{level}.png");
        ImageIO.Write(image, path);
        return new Sample(path, anomalous ? SampleLabel.Anomalous : SampleLabel.Normal, anomalous ? "defect" : "good", "test", "grey");
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
    public void StartAndFinishSeeTheNormalTrainingImagesOnly()
    {
        // Statistics a network takes from its training images before and after training (CFA's memory, CFlow's
        // normalisation) describe normal data: the labelled anomalies stay out.
        var network = Train(seed: 3);
        Assert.Equal(Enumerable.Range(10, Normals), network.Started);
        Assert.Equal(Enumerable.Range(10, Normals), network.Finished);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A one-weight network whose frozen "features" are each image's grey level; it records every batch it is trained on.</summary>
    private sealed class Recorder(int steps) : ISupervisedNetwork
    {
        private readonly TorchSharp.Modules.Linear _weight = nn.Linear(1, 1);

        public List<(int[] Levels, float[] Labels)> Batches { get; } = [];
        public List<int> Started { get; } = [];
        public List<int> Finished { get; } = [];
        public int StepsPerEpoch => steps;
        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("weight", _weight)];
        public Preprocessing Preprocessing { get; } = new FeatureExtractorOptions().Preprocessing();
        public bool NeedsImages => false;

        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images) =>
            [tensor(images.Select(i => i.Data[0]).ToArray(), [images.Count, 1])];

        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Tensor labels, Generator generator)
        {
            Batches.Add((Levels(new TrainingBatch(images, frozen)), labels.data<float>().ToArray()));
            return _weight.forward(frozen[0]).mean();
        }

        public void StartTraining(IEnumerable<TrainingBatch> training) => Started.AddRange(training.SelectMany(Levels));
        public void FinishTraining(IEnumerable<TrainingBatch> training) => Finished.AddRange(training.SelectMany(Levels));
        private static int[] Levels(TrainingBatch batch) => batch.Frozen[0].data<float>().Select(v => (int)Math.Round(v * 255)).ToArray();

        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => throw new InvalidOperationException("trained with labels");
        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => throw new InvalidOperationException("no validation");
    }
}
