using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// A trainable network that learns from labelled anomalies as well as normal images (DevNet, BGAD):
/// <see cref="GradientTrainer"/> trains it on the normal images and <see cref="Detectors.TrainingData.Anomalies"/>
/// together, in the batches its <see cref="Sampling"/> describes, and hands each batch's labels (and, when it asks for
/// them, the anomalies' masks) to <see cref="TrainBatch"/>. Its label-free <see cref="ITrainableNetwork.Loss"/> is the
/// loss of normal images (the validation images are normal).
/// </summary>
public interface ISupervisedNetwork : ITrainableNetwork
{
    /// <summary>How an epoch's batches mix the normal images and the labelled anomalies.</summary>
    SupervisedSampling Sampling { get; }

    /// <summary>
    /// Whether the batches carry masks (<see cref="TrainingBatch.Masks"/>): the labelled anomalies' ground truth and
    /// empty masks for normal images, at the network input's size. A labelled anomaly without a mask is then an input error.
    /// </summary>
    bool NeedsMasks => false;

    /// <summary>
    /// The optimizer steps of a batch whose <paramref name="labels"/> [N] are 1 for labelled anomalies and 0 for normal
    /// images: calls <paramref name="step"/> with each step's scalar loss, in order.
    /// </summary>
    void TrainBatch(TrainingBatch batch, Tensor labels, Generator generator, Action<Tensor> step);
}

/// <summary>How a supervised network's epochs draw normal images and labelled anomalies.</summary>
public abstract record SupervisedSampling;

/// <summary>
/// DevNet's <c>BalancedBatchSampler</c>: <paramref name="StepsPerEpoch"/> batches per epoch (an epoch is not a pass over
/// the images), each ⌊batch · <paramref name="NormalParts"/> / <paramref name="AllParts"/>⌋ normal images (DevNet: half;
/// DRA: 2·batch // 3) then labelled anomalies, each side cycling through seeded permutations.
/// </summary>
public sealed record BalancedSampling(int StepsPerEpoch, int NormalParts = 1, int AllParts = 2) : SupervisedSampling;

/// <summary>
/// BGAD's few-abnormal-sample loader: each epoch is one shuffled pass over the normal images and
/// <paramref name="AnomalyRepeats"/> copies of each labelled anomaly; the first <paramref name="NormalOnlyEpochs"/>
/// epochs pass over the normal images alone, trained by the network's label-free <see cref="ITrainableNetwork.TrainBatch"/>.
/// </summary>
public sealed record PooledSampling(int AnomalyRepeats, int NormalOnlyEpochs) : SupervisedSampling;
