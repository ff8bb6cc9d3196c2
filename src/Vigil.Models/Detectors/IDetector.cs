using Vigil.Backbones;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Inference;

namespace Vigil.Detectors;

/// <summary>
/// A fitted detector: inference only. It scores images (image score + anomaly map at each image's size) and saves its
/// fitted state; what produced it is its <see cref="IDetectorTrainer"/>. A detector owns what it runs (backbone,
/// tensors) and frees it on Dispose. Predict may be called from several threads one at a time.
/// </summary>
public interface IDetector : IDisposable
{
    /// <summary>The registered model name, e.g. "patchcore" (see <see cref="Registry.DetectorRegistry"/>).</summary>
    string Model { get; }

    /// <summary>The options it was fitted with (all of them, defaults resolved).</summary>
    IDetectorOptions Options { get; }

    /// <summary>The frozen backbone it runs, recorded in model files; null for a detector that brings its own networks.</summary>
    BackboneReference? Backbone { get; }

    /// <summary>Bytes of the fitted state in memory (memory bank, statistics, network weights).</summary>
    long StateBytes { get; }

    /// <summary>What the fitted state holds, for people (e.g. "12,345 patch features × 1024").</summary>
    string StateSummary { get; }

    /// <summary>Scores raw RGB images in [0, 1] (any size) together; each map has its image's size.</summary>
    IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images);

    /// <summary>Writes the fitted state into a model archive (the archive's manifest already names the model, options and backbone).</summary>
    void Save(ModelArchiveWriter archive);
}

/// <summary>
/// A detector whose fitted state keeps training features themselves (PatchCore's memory bank, SPADE's feature
/// pyramids), so it grows with the training data, e.g. with the tiles per image when tiled.
/// </summary>
public interface IMemoryBankDetector : IDetector;

public static class DetectorExtensions
{
    /// <summary>Scores one image.</summary>
    public static Prediction Predict(this IDetector detector, ImageTensor image) => detector.Predict([image])[0];
}
