using TorchSharp;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// What a gradient-trained detector gives <see cref="GradientTrainer"/>: the modules it trains, how a batch becomes a
/// loss, and the frozen part (a pretrained backbone) whose features do not change during training, so the trainer can
/// compute them once per image and cache them when training without augmentation.
/// </summary>
public interface ITrainableNetwork
{
    /// <summary>The trained modules by name; their parameters are optimised and their state (buffers included) checkpointed.</summary>
    IReadOnlyList<(string Name, nn.Module Module)> Trained { get; }

    /// <summary>
    /// Trained modules, by name, that have an optimizer of their own (<see cref="OptimizerSettings"/>); every other
    /// trained module shares the one the options describe. None by default.
    /// </summary>
    IReadOnlyDictionary<string, OptimizerSettings> OwnOptimizers => new Dictionary<string, OptimizerSettings>();

    /// <summary>
    /// Optimizer steps per epoch when the reference code counts epochs in steps rather than passes over the images
    /// (CutPaste: 256 steps an epoch), each batch drawn in turn from seeded permutations of the training images (a new
    /// permutation when one is used up); null (the default): an epoch is one pass over the shuffled images.
    /// </summary>
    int? BatchesPerEpoch => null;

    /// <summary>The network input: how raw images become the tensors <see cref="Loss"/> receives as images.</summary>
    Preprocessing Preprocessing { get; }

    /// <summary>Whether <see cref="Loss"/> reads the preprocessed images themselves (a student network), not only the frozen features.</summary>
    bool NeedsImages { get; }

    /// <summary>The frozen features [N, C, h, w] per layer of raw images (no gradient); none for a network without a frozen part.</summary>
    IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images);

    /// <summary>
    /// The scalar loss of a batch: preprocessed images [N, 3, H, W] (present when <see cref="NeedsImages"/>) and their
    /// frozen features; random choices (e.g. a patch subset) draw from <paramref name="generator"/>, seeded per step.
    /// </summary>
    Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator);

    /// <summary>
    /// What selects the best epoch and stops training early, on a validation batch in eval mode without gradients: the
    /// loss, unless the reference code validates on something else (STPM: the mean anomaly map).
    /// </summary>
    Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator);

    /// <summary>
    /// The optimizer steps of a training batch: calls <paramref name="step"/> (zero_grad, backward, clipping, step)
    /// with each step's scalar loss, in order. One step on <see cref="Loss"/>, unless the reference code steps several
    /// times per batch (CFlow: once per fiber batch of positions per layer).
    /// </summary>
    void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step) => step(Loss(images, frozen, generator));

    /// <summary>
    /// Called once before the first step of a training that starts from the beginning (not when it resumes from a
    /// checkpoint, which holds what this set), with the untrained modules in eval mode and without gradients, on the
    /// training images as they are (batches as in <see cref="FinishTraining"/>): for state the reference code takes
    /// from data before training (CFA: the memory of centroids from the initial descriptor's features). Nothing by default.
    /// </summary>
    void StartTraining(IEnumerable<TrainingBatch> training) { }

    /// <summary>
    /// Called once when training ends, with the kept weights in eval mode and without gradients, on the training
    /// images as they are (in batches whose tensors are disposed when the next is drawn): for statistics the reference
    /// code takes from data with the trained network (CFlow: each layer's largest log-likelihood). Nothing by default.
    /// </summary>
    void FinishTraining(IEnumerable<TrainingBatch> training) { }

    /// <summary>
    /// Called after each epoch's steps (before validation and its checkpoint), with <paramref name="epochsDone"/> epochs
    /// done, the trained modules in eval mode and without gradients, on the training images as they are (batches as in
    /// <see cref="FinishTraining"/>): for state the reference code re-estimates from data during training (IGD: the
    /// Gaussian's centre and width every 10 epochs). Nothing by default.
    /// </summary>
    void FinishEpoch(int epochsDone, IEnumerable<TrainingBatch> training) { }
}
