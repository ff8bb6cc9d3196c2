namespace Vigil.Server;

/// <summary>A served model, as GET /v1/models lists it.</summary>
/// <param name="Name">The model file's name without ".vgl": the {name} of the predict URL.</param>
/// <param name="Model">The detector, e.g. "patchcore".</param>
/// <param name="Label">The model with its changed options, e.g. "patchcore:coreset=0.01".</param>
/// <param name="Backbone">The frozen backbone, or null for a model with its own networks.</param>
/// <param name="WeightsSha256">SHA-256 of the backbone's weights ("random:…" for random weights).</param>
/// <param name="Input">The network input, e.g. "resize 256x256".</param>
/// <param name="Threshold">Image score at or above which an image is anomalous; null when the model was saved without calibration.</param>
/// <param name="ThresholdRule">How the threshold was fitted, e.g. "fpr:0.01".</param>
/// <param name="FileSha256">SHA-256 of the model file in service.</param>
/// <param name="Dataset">Provenance: the dataset and category it was trained on.</param>
public sealed record ModelInfo(
    string Name, string Model, string Label, string? Backbone, string? WeightsSha256, string? Input, float? Threshold, string? ThresholdRule,
    string File, string FileSha256, DateTimeOffset LoadedAt, string? Dataset, string? Category, DateTime? TrainedAt, string? VigilVersion);

/// <summary>GET /v1/models: the models in service and the files that failed to load.</summary>
public sealed record ModelList(IReadOnlyList<ModelInfo> Models, IReadOnlyList<ModelLoadError> Errors);

/// <summary>What the server says about one image.</summary>
/// <param name="Width">The image's width as scored: as sent, or reduced so its longer side is 4096 (docs/limits.md).</param>
/// <param name="Height">The image's height as scored.</param>
/// <param name="Score">The raw anomaly score (higher = more anomalous), as `vigil predict` gives it.</param>
/// <param name="NormalisedScore">0.5 at the model's threshold, 0 and 1 at the validation images' score range (null without calibration).</param>
/// <param name="Anomalous">Score ≥ threshold: the request's threshold when given, else the model's (null when neither exists).</param>
/// <param name="Threshold">The threshold applied.</param>
/// <param name="ThresholdSource">"request", "model" or "none".</param>
/// <param name="LatencyMs">Time spent scoring (decode, predict, maps), without waiting in the queue.</param>
/// <param name="HeatmapPng">The anomaly map as a PNG heat map, base64 (with map=heatmap or map=both).</param>
/// <param name="OverlayPng">The heat map over the image, defective pixels outlined when the model has a threshold, PNG base64 (map=overlay or both).</param>
/// <param name="Warning">Set when the image was scored but its score says little (below 32 pixels on a side), as `vigil predict` warns.</param>
public sealed record PredictionResponse(
    string Model, string? File, int Width, int Height, float Score, float? NormalisedScore, bool? Anomalous, float? Threshold, string ThresholdSource,
    double LatencyMs, string? HeatmapPng, string? OverlayPng, string? Warning = null);

/// <summary>One image of a batch: its prediction, or why it could not be scored.</summary>
public sealed record BatchItem(string File, PredictionResponse? Prediction, string? Error);

public sealed record BatchResponse(string Model, IReadOnlyList<BatchItem> Results);

/// <summary>Every error answer: what was wrong and what to do.</summary>
public sealed record ErrorResponse(string Error);
