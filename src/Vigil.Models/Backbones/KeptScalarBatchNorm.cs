using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Vigil.Backbones;

/// <summary>
/// torch.nn.BatchNorm1d / BatchNorm2d (same parameters, buffers, names and arithmetic as TorchSharp's) whose
/// training-mode batch counter update passes scalars that stay alive. TorchSharp's own forward runs
/// <c>num_batches_tracked.add_(1)</c>: the two Scalars it creates are unreachable while libtorch reads them, and a garbage
/// collection by another thread in that moment lets their finalizer free them mid-call. Full-KSDD DRAEM training died
/// of it twice ("Unknown scalar type", "alpha must not be a floating point number", inside BatchNorm.forward).
/// </summary>
public sealed class KeptScalarBatchNorm : BatchNorm
{
    private static readonly Scalar One = 1.ToScalar(); // static: never finalized
    private readonly int[] _inputRanks;

    private KeptScalarBatchNorm(long features, int[] inputRanks, string name)
        : base(features, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true, device: null, dtype: null, name) =>
        _inputRanks = inputRanks;

    /// <summary>BatchNorm over [N, C] or [N, C, L] input, PyTorch's defaults.</summary>
    public static KeptScalarBatchNorm BatchNorm1d(long features) => new(features, [2, 3], nameof(BatchNorm1d));

    /// <summary>BatchNorm over [N, C, H, W] input, PyTorch's defaults.</summary>
    public static KeptScalarBatchNorm BatchNorm2d(long features) => new(features, [4], nameof(BatchNorm2d));

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double averageFactor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is not null)
        {
            num_batches_tracked.add_(One, One);
            averageFactor = momentum ?? 1.0 / num_batches_tracked.item<long>();
        }
        bool batchStatistics = training || (running_mean is null && running_var is null);
        bool useRunning = !training || track_running_stats;
        return F.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null, weight, bias, batchStatistics, averageFactor, eps);
    }

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (!_inputRanks.Contains((int)input.ndim))
            throw new ArgumentException($"{GetName()} expects {string.Join(" or ", _inputRanks.Select(r => $"{r}D"))} input, got {input.ndim}D.");
    }
}
