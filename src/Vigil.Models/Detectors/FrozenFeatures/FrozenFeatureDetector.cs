using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Data;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Inference;
using static TorchSharp.torch;

namespace Vigil.Detectors.FrozenFeatures;

/// <summary>
/// Common shell of the detectors that compare pretrained features with what was seen on normal images (PatchCore,
/// PaDiM, SPADE): owns the feature extractor (and disposes it), holds the fitted state as named tensors, scores a
/// feature grid per image and turns it into an anomaly map at the image's size. Its trainer
/// (<see cref="FrozenFeatureTrainer{TDetector}"/>) fills the state with <see cref="Learn"/>.
/// </summary>
public abstract class FrozenFeatureDetector : IDetector
{
    protected FrozenFeatureDetector(IFeatureExtractor extractor, IDetectorOptions options)
    {
        Extractor = extractor ?? throw new ArgumentNullException(nameof(extractor));
        Options = options;
        NativeRuntime.Configure();
    }

    public abstract string Model { get; }
    public IDetectorOptions Options { get; }

    /// <summary>The backbone this detector runs; owned by the detector.</summary>
    public IFeatureExtractor Extractor { get; }

    public BackboneReference Backbone => BackboneReference.Of(Extractor);

    /// <summary>Fitted state (memory bank or statistics) by name; empty before fitting.</summary>
    protected abstract IReadOnlyDictionary<string, Tensor> State { get; }

    public long StateBytes => State.Values.Sum(t => t.numel() * t.ElementSize);

    public abstract string StateSummary { get; }

    public bool IsFitted => State.Count > 0;

    /// <summary>
    /// Learns the images' features: replaces the state, or with <paramref name="continual"/> adds them to what is known
    /// (keeping what later calls need). At least <paramref name="progress"/>'s "features" phase is reported.
    /// </summary>
    internal abstract void Learn(IReadOnlyList<Sample> images, bool continual, IProgress<WorkProgress>? progress, CancellationToken cancel);

    /// <summary>Scores the images with one backbone pass (faster per image on most backbones); maps have each image's size.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Model}: fit the detector (or load a fitted model) before Predict.");
        var rgb = images.Select((image, i) => ImageOps.ToRgb(image, images.Count == 1 ? "The image" : $"Image #{i}")).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = Extractor.Extract(rgb);
        var predictions = new Prediction[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (gridScores, imageScore) = ScoreGrid(images.Count == 1 ? layers : layers.Select(l => l.narrow(0, i, 1)).ToList());
            var (map, view) = AnomalyMaps.ToImage(gridScores, Extractor.Preprocessing, images[i].Height, images[i].Width, MapSigma);
            predictions[i] = new Prediction(imageScore ?? view.Data.Max(), map) { View = view };
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

    /// <summary>Writes every state tensor under its name.</summary>
    public virtual void Save(ModelArchiveWriter archive)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Model}: fit the detector before saving it.");
        foreach (var (name, tensor) in State) archive.WriteTensor(name, tensor);
    }

    /// <summary>Stores a tensor as fitted state, out of any dispose scope.</summary>
    protected static Tensor Keep(Tensor tensor) => tensor.DetachFromDisposeScope();

    /// <summary>
    /// Fitted state and new images must give the same feature grid (positions per image): the backbone's
    /// preprocessing decides it, and a model fitted at one input size cannot compare features of another.
    /// </summary>
    protected void RequireSameGrid(long fittedPositions, long givenPositions, string what)
    {
        if (fittedPositions != givenPositions)
            throw new VigilInputException(
                $"{Model} was fitted on a {fittedPositions}-position feature grid but {what} give{(what.EndsWith('s') ? "" : "s")} {givenPositions}; " +
                "the backbone's input size and preprocessing must match the fitted model.");
    }

    protected void RequireTrainingImages(IReadOnlyList<Sample> train, int minimum)
    {
        if (train.Count < minimum)
            throw new VigilInputException($"{Model} needs at least {Counted.Of(minimum, "training image")}; got {train.Count}. Add normal training images.");
    }

    /// <summary>
    /// The end of a Restore: <paramref name="detector"/> when its state passed the checks, else its state freed and the
    /// file reported corrupt with <paramref name="problem"/> (the caller disposes the extractor it resolved).
    /// </summary>
    protected static TDetector Checked<TDetector>(TDetector detector, ModelArchiveReader archive, string? problem) where TDetector : FrozenFeatureDetector
    {
        if (problem is null) return detector;
        detector.DisposeState();
        throw archive.Corrupt(problem);
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
