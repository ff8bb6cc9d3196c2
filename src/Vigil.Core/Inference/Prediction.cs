using Vigil.Imaging;

namespace Vigil.Inference;

/// <summary>What a detector says about one image.</summary>
/// <param name="Score">Image-level anomaly score; higher = more anomalous.</param>
/// <param name="Map">Pixel anomaly scores at the input image's height and width.</param>
public sealed record Prediction(float Score, ScoreMap Map)
{
    /// <summary>
    /// The map in the network's input view (after resize and crop, before it is placed back onto the image), for a
    /// detector that runs a backbone: what the methods' reference code evaluates. Null for a detector without one.
    /// </summary>
    public ScoreMap? View { get; init; }
}
