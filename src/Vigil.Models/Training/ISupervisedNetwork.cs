using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// A trainable network that learns from labelled anomalies as well as normal images (DevNet): <see cref="GradientTrainer"/>
/// trains it on the normal images and <see cref="Detectors.TrainingData.Anomalies"/> together, a fixed number of steps
/// per epoch, each batch drawn half from the normal images and half from the anomalies (each side cycling through
/// seeded permutations), and hands the batch's labels to <see cref="Loss(Tensor?, IReadOnlyList{Tensor}, Tensor, Generator)"/>.
/// Its label-free <see cref="ITrainableNetwork.Loss"/> is the loss of normal images (the validation images are normal).
/// </summary>
public interface ISupervisedNetwork : ITrainableNetwork
{
    /// <summary>Optimizer steps per epoch (DevNet: 20); an epoch is not a pass over the images.</summary>
    int StepsPerEpoch { get; }

    /// <summary>The scalar loss of a batch whose <paramref name="labels"/> [N] are 1 for labelled anomalies and 0 for normal images.</summary>
    Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Tensor labels, Generator generator);
}
