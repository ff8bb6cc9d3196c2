using System.Text.Json;
using Vigil.Backbones;
using Vigil.Calibration;

namespace Vigil.Detectors;

/// <summary>Loads any detector saved with <see cref="FeatureEmbeddingDetector.Save"/>.</summary>
public static class DetectorFile
{
    /// <summary>
    /// Reads a model file and rebuilds the fitted detector; <paramref name="resolveBackbone"/> supplies the
    /// feature extractor the file's <see cref="BackboneReference"/> names (checked against it). Unreadable files,
    /// other format versions and mismatching backbones are <see cref="VigilInputException"/>s.
    /// </summary>
    public static FeatureEmbeddingDetector Load(string path, Func<BackboneReference, IFeatureExtractor> resolveBackbone)
    {
        var content = ModelFile.Read(path);
        IFeatureExtractor? extractor = null;
        try
        {
            extractor = resolveBackbone(content.Backbone);
            content.Backbone.Verify(extractor, path);
            FeatureEmbeddingDetector detector = content.Model switch
            {
                PatchCoreDetector.ModelName => PatchCoreDetector.Restore(content, extractor, path),
                PadimDetector.ModelName => PadimDetector.Restore(content, extractor, path),
                SpadeDetector.ModelName => SpadeDetector.Restore(content, extractor, path),
                _ => throw new VigilInputException(
                    $"Model file '{path}' holds model '{content.Model}', which this Vigil cannot load (known: {PatchCoreDetector.ModelName}, {PadimDetector.ModelName}, {SpadeDetector.ModelName})."),
            };
            detector.Calibration = content.Metadata[FeatureEmbeddingDetector.CalibrationKey]?.Deserialize<ScoreCalibration>();
            detector.Provenance = content.Metadata[FeatureEmbeddingDetector.ProvenanceKey]?.Deserialize<ModelProvenance>();
            return detector;
        }
        catch
        {
            extractor?.Dispose();
            foreach (var t in content.Tensors.Values) t.Dispose();
            throw;
        }
    }
}
