using Vigil.Imaging;

namespace Vigil.Inference;

/// <summary>What a detector says about one image.</summary>
/// <param name="Score">Image-level anomaly score; higher = more anomalous.</param>
/// <param name="Map">Pixel anomaly scores at the input image's height and width.</param>
public sealed record Prediction(float Score, ScoreMap Map);
