using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Building;
using Vigil.Calibration;
using Vigil.Data;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Detectors;

/// <summary>
/// Common shell of the detectors that compare pretrained features with what was seen on normal images
/// (PatchCore, PaDiM, SPADE): owns the feature extractor (and disposes it), holds the fitted state as tensors,
/// and saves it with a backbone reference to one file (<see cref="DetectorFile.Load"/> reads any of them back).
/// </summary>
public abstract class FeatureEmbeddingDetector : IAnomalyDetector
{
    protected FeatureEmbeddingDetector(IFeatureExtractor extractor)
    {
        Extractor = extractor ?? throw new ArgumentNullException(nameof(extractor));
        TorchThreads.Configure();
    }

    public abstract string Name { get; }

    /// <summary>The backbone this detector runs; owned by the detector.</summary>
    public IFeatureExtractor Extractor { get; }

    /// <summary>Fitted state (memory bank or statistics) by name; empty before <see cref="Fit"/>.</summary>
    protected abstract IReadOnlyDictionary<string, Tensor> State { get; }

    /// <summary>Number of values in the fitted state (memory bank, statistics); 0 before fitting.</summary>
    public long StateElements => State.Values.Sum(t => t.numel());

    /// <summary>Bytes of the fitted state in memory.</summary>
    public long StateBytes => State.Values.Sum(t => t.numel() * t.ElementSize);

    public bool IsFitted => State.Count > 0;

    /// <summary>Thresholds and score normalisation from validation images (see <see cref="Calibrator"/>); saved with the model. Null until calibrated.</summary>
    public ScoreCalibration? Calibration { get; set; }

    /// <summary>Where the fitted state came from (data, split, seed, Vigil build); saved with the model. Null when not recorded.</summary>
    public ModelProvenance? Provenance { get; set; }

    public abstract void Fit(IReadOnlyList<Sample> train, IProgress<(int Done, int Total)>? progress = null);

    public Prediction Predict(ImageTensor image) => PredictBatch([image])[0];

    /// <summary>Scores several images with one backbone pass (faster per image on most backbones); maps have each image's size.</summary>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<ImageTensor> images)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Name}: call Fit (or load a fitted model) before Predict.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = Extractor.Extract(images);
        var predictions = new Prediction[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (gridScores, imageScore) = ScoreGrid(images.Count == 1 ? layers : layers.Select(l => l.narrow(0, i, 1)).ToList());
            var (map, mapMax) = AnomalyMaps.ToImage(gridScores, Extractor.Preprocessing, images[i].Height, images[i].Width, MapSigma);
            predictions[i] = new Prediction(imageScore ?? mapMax, map);
        }
        return predictions;
    }

    /// <summary>
    /// Scores one image's layer tensors: a score per feature-grid cell [h, w], and the image score when the
    /// method defines it apart from the map (null = the maximum of the smoothed map).
    /// </summary>
    protected abstract (Tensor GridScores, float? ImageScore) ScoreGrid(IReadOnlyList<Tensor> layers);

    /// <summary>σ of the Gaussian smoothing applied to the upsampled map.</summary>
    protected abstract double MapSigma { get; }

    protected abstract JsonNode OptionsJson();

    /// <summary>Writes the fitted detector, its options and its backbone reference to one file.</summary>
    public void Save(string path)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Name}: fit the detector before saving it.");
        ModelFile.Write(path, Name, OptionsJson(), BackboneReference.Of(Extractor), State, new JsonObject
        {
            [CalibrationKey] = JsonSerializer.SerializeToNode(Calibration),
            [ProvenanceKey] = JsonSerializer.SerializeToNode(Provenance),
        });
    }

    internal const string CalibrationKey = "calibration", ProvenanceKey = "provenance";

    /// <summary>Stores a tensor as fitted state, out of any dispose scope.</summary>
    protected static Tensor Keep(Tensor tensor) => tensor.DetachFromDisposeScope();

    /// <summary>The fitted tensor <paramref name="name"/> from a model file, with a corrupt-file error when missing.</summary>
    internal static Tensor Take(ModelFile.Content content, string name, string path, int rank)
    {
        if (!content.Tensors.Remove(name, out var tensor)) throw ModelFile.Corrupt(path, $"tensor '{name}' is missing");
        if (tensor.dim() == rank) return tensor;
        tensor.Dispose();
        throw ModelFile.Corrupt(path, $"tensor '{name}' has {tensor.dim()} dimensions instead of {rank}");
    }

    /// <summary>The fitted tensor <paramref name="name"/> when the file holds it (state only some fits keep), else null.</summary>
    internal static Tensor? TakeOptional(ModelFile.Content content, string name, string path, int rank) =>
        content.Tensors.ContainsKey(name) ? Take(content, name, path, rank) : null;

    protected static void RequireTrainingImages(IReadOnlyList<Sample> train, int minimum, string model)
    {
        if (train.Count < minimum)
            throw new VigilInputException($"{model} needs at least {minimum} training image(s); got {train.Count}. Add normal training images.");
    }

    /// <summary>Frees the fitted tensors (the extractor stays).</summary>
    protected virtual void DisposeState()
    {
        foreach (var t in State.Values) t.Dispose();
    }

    public void Dispose()
    {
        DisposeState();
        Extractor.Dispose();
        GC.SuppressFinalize(this);
    }
}
