using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Backbones;
using Vigil.Detectors;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Tiled;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Registry;

namespace Vigil.Deployment;

/// <summary>
/// What <c>vigil train</c> saves and <c>vigil test</c>, <c>vigil predict</c> and a server load: a fitted detector, the
/// score calibration fitted on validation images (thresholds and normalisation; null when none was fitted), and where
/// it came from. One verified file (<see cref="ModelArchive"/>). Owns the detector.
/// </summary>
public sealed class DeployedModel(IDetector detector, ScoreCalibration? calibration, ModelProvenance? provenance) : IDisposable
{
    public IDetector Detector { get; } = detector;
    public ScoreCalibration? Calibration { get; } = calibration;
    public ModelProvenance? Provenance { get; } = provenance;

    /// <summary>The model and its options as the registry knows them (label, option values).</summary>
    public ModelSpec Spec => new(DetectorRegistry.Get(Detector.Model), Detector.Options) { Tiling = (Detector as TiledDetector)?.Tiling };

    /// <summary>Scores one image and applies the calibration when there is one (label, normalised score).</summary>
    public (Prediction Prediction, CalibratedPrediction? Decision) Predict(ImageTensor image)
    {
        var prediction = Detector.Predict(image);
        return (prediction, Calibration?.Apply(prediction));
    }

    /// <summary>Writes the model file; the file at <paramref name="path"/> is replaced only when complete.</summary>
    public void Save(string path) => Write(path, Detector, Calibration, Provenance);

    /// <summary>Writes a model file of <paramref name="detector"/> with its calibration and provenance (each may be null).</summary>
    public static void Write(string path, IDetector detector, ScoreCalibration? calibration, ModelProvenance? provenance)
    {
        var manifest = new JsonObject
        {
            ["model"] = detector.Model,
            ["options"] = DetectorRegistry.Get(detector.Model).Schema.ToJson(detector.Options),
            ["backbone"] = detector.Backbone?.ToJson(),
            [CalibrationKey] = JsonSerializer.SerializeToNode(calibration),
            [ProvenanceKey] = JsonSerializer.SerializeToNode(provenance),
        };
        if (detector is TiledDetector tiled) manifest[TilingKey] = TilingJson(tiled.Tiling);
        ModelArchive.Write(path, manifest, detector.Save);
    }

    private const string CalibrationKey = "calibration", ProvenanceKey = "provenance", TilingKey = "tiling";

    /// <summary>The tiling in the manifest: <c>{"size": 256, "stride": 224, "score": "max-map"}</c>.</summary>
    private static JsonObject TilingJson(Tiling tiling) => new()
    {
        ["size"] = tiling.Size,
        ["stride"] = tiling.Stride,
        ["score"] = tiling.Score.Name(),
    };

    private static Tiling ReadTiling(JsonObject json, ModelArchiveReader archive)
    {
        int size = (int?)json["size"] ?? throw archive.Corrupt("the tiling has no size");
        int stride = (int?)json["stride"] ?? throw archive.Corrupt("the tiling has no stride");
        var score = TileScores.Parse((string?)json["score"]) ?? throw archive.Corrupt("the tiling's image score is unknown");
        try { return new Tiling(size, stride, score); }
        catch (VigilInputException e) { throw archive.Corrupt(e.Message, e); }
    }

    /// <summary>
    /// Reads and verifies a model file and rebuilds the detector; <paramref name="resolveBackbone"/> opens the backbone
    /// the file names (checked against the file's reference). A missing, damaged or foreign file, an unknown model and
    /// a backbone that does not match are <see cref="VigilInputException"/>s naming the file.
    /// </summary>
    public static DeployedModel Load(string path, BackboneResolver resolveBackbone)
    {
        using var archive = ModelArchive.Open(path);
        var manifest = archive.Manifest;
        var model = (string?)manifest["model"] ?? throw archive.Corrupt("the model name is missing");
        var module = DetectorRegistry.All.FirstOrDefault(m => m.Info.Name == model)
            ?? throw new VigilInputException(
                $"Model file '{path}' holds model '{model}', which this Vigil does not know (known: {string.Join(", ", DetectorRegistry.All.Select(m => m.Info.Name))}).");
        IFeatureExtractor? opened = null;
        try
        {
            var options = module.Schema.FromJson(model, manifest["options"] as JsonObject ?? throw archive.Corrupt("the options are missing"));
            var calibration = manifest[CalibrationKey]?.Deserialize<ScoreCalibration>();
            var provenance = manifest[ProvenanceKey]?.Deserialize<ModelProvenance>();
            var tiling = manifest[TilingKey] is JsonObject tilingJson ? ReadTiling(tilingJson, archive) : null;
            var detector = module.Load(archive, options, reference =>
            {
                opened = resolveBackbone(reference);
                reference.Verify(opened, path);
                return opened;
            });
            return new DeployedModel(tiling is null ? detector : new TiledDetector(detector, tiling), calibration, provenance);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            opened?.Dispose();
            throw archive.Corrupt(e.Message, e);
        }
        catch (VigilInputException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            opened?.Dispose();
            throw new VigilInputException($"Model file '{path}' cannot be loaded as '{model}': {e.Message}", e);
        }
        catch
        {
            opened?.Dispose();
            throw;
        }
    }

    public void Dispose() => Detector.Dispose();
}
