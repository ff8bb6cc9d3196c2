using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Detectors;

/// <summary>What a detector says about one image.</summary>
/// <param name="Score">Image-level anomaly score; higher = more anomalous.</param>
/// <param name="Map">Pixel anomaly scores at the input image's height and width.</param>
public sealed record Prediction(float Score, ScoreMap Map);

/// <summary>
/// An anomaly detector: fitted on training samples (normal images, plus labelled anomalies for supervised
/// methods), then scores single images. Implementations are plain classes; a fitted detector saves to one file.
/// </summary>
public interface IAnomalyDetector : IDisposable
{
    /// <summary>Model name, e.g. "patchcore".</summary>
    string Name { get; }

    /// <summary>Fits on the training samples. Reports progress as (done, total) images when given a sink.</summary>
    void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null);

    /// <summary>Scores a raw RGB image in [0, 1]; the map has the image's size.</summary>
    Prediction Predict(ImageTensor image);
}
