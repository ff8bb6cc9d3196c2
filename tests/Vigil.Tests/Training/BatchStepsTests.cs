using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Stpm;
using Vigil.Tests.Detectors;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Tests.Training;

/// <summary>A network may take several optimizer steps per batch and take statistics once training ends.</summary>
public class BatchStepsTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    /// <summary>
    /// One weight w = 0 and two steps per batch on (w − 3)², plain SGD at 0.1 with all images in one batch: each step
    /// multiplies w − 3 by 0.8, so after epoch 1 w = 3 − 3·0.8² = 1.08 and the epoch's loss is the mean of the two
    /// steps' losses, (9 + 5.76) / 2. The finishing call sees every training image once, in eval mode, without gradients.
    /// </summary>
    [Fact]
    public void EveryStepOfABatchIsTakenAndTheFinishingCallSeesTheTrainingImages()
    {
        var options = new StpmOptions { Epochs = 1, BatchSize = 100, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0, WeightDecay = 0, ValidationRatio = 0 };
        var network = new TwoStepsPerBatch();
        var train = fixture.Data.Train;
        var log = new GradientTrainer(options).Run(network, new TrainingData(train), new TrainingContext(0, new TestBackbone()), "two steps");

        Assert.Equal(1.08, network.Weight.item<float>(), 5);
        Assert.Equal((9 + 5.76) / 2, log.Epochs[0].Loss, 4);
        Assert.Equal(train.Count, network.FinishedOn);
        Assert.False(network.FinishedInTrainingMode);
        Assert.False(network.FinishedWithGradients);
    }

    private sealed class TwoStepsPerBatch : ITrainableNetwork
    {
        private readonly TorchSharp.Modules.Linear _module = nn.Linear(1, 1, hasBias: false);

        public TwoStepsPerBatch()
        {
            using var noGrad = no_grad();
            _module.weight!.zero_();
        }

        public Tensor Weight => _module.weight!;
        public int FinishedOn { get; private set; }
        public bool FinishedInTrainingMode { get; private set; } = true;
        public bool FinishedWithGradients { get; private set; } = true;
        public IReadOnlyList<(string Name, nn.Module Module)> Trained => [("w", _module)];
        public Vigil.Imaging.Preprocessing Preprocessing { get; } = new(8, 8);
        public bool NeedsImages => false;
        public IReadOnlyList<Tensor> Frozen(IReadOnlyList<Vigil.Imaging.ImageTensor> images) => [zeros(images.Count, 1)];
        public Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => (Weight - 3).square().sum();
        public Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Loss(images, frozen, generator);

        public void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step)
        {
            step(Loss(images, frozen, generator));
            step(Loss(images, frozen, generator));
        }

        public void FinishTraining(IEnumerable<TrainingBatch> training)
        {
            FinishedInTrainingMode = _module.training;
            FinishedWithGradients = is_grad_enabled();
            FinishedOn = training.Sum(b => (int)b.Frozen[0].shape[0]);
        }
    }
}
