using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// A trainable network whose reference code steps its modules' optimizers in turn on one batch, each on a loss of its
/// own (IGD: the generator on its reconstruction, Gaussian and interpolation loss, then the critic on the critic
/// loss): <see cref="GradientTrainer"/> calls its <see cref="TrainBatch"/> instead of
/// <see cref="ITrainableNetwork.TrainBatch"/>. The modules of a step are trained ones by name; the step updates only
/// the optimizers over them (<see cref="ITrainableNetwork.OwnOptimizers"/>; the shared optimizer when it names every
/// module that shares it), so the gradient another module receives from that loss is never applied.
/// </summary>
public interface IAlternatingNetwork : ITrainableNetwork
{
    /// <summary>
    /// The optimizer steps of a training batch: calls <paramref name="step"/> with each step's scalar loss and the
    /// trained modules it updates, in order. Each step zeroes every gradient, back-propagates its loss, clips and steps
    /// the named modules' optimizers.
    /// </summary>
    void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor, IReadOnlyCollection<string>> step);
}
