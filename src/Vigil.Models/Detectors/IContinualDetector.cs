using Vigil.Data;

namespace Vigil.Detectors;

/// <summary>
/// A detector that keeps learning (the continual setting): <see cref="FitMore"/> adds a new task's normal
/// training images to what the detector already knows instead of replacing it. On an unfitted detector it fits
/// from scratch and keeps whatever later calls need (e.g. PaDiM's running statistics); a fitted model saved to a
/// file and loaded again continues where it stopped.
/// </summary>
public interface IContinualDetector : IAnomalyDetector
{
    /// <summary>Learns the new training images on top of the fitted state. Reports progress as (done, total) images.</summary>
    void FitMore(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null);
}
