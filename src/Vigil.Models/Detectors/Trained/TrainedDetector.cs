using System.Text.Json;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Records;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.Trained;

/// <summary>A detector whose state came from gradient training: it carries the training's loss curves.</summary>
public interface ITrainedDetector : IDetector
{
    /// <summary>How the training went (null before training).</summary>
    TrainingLog? Training { get; }
}

/// <summary>
/// Common shell of the detectors that train networks on top of a frozen pretrained backbone (STPM's student, Reverse
/// Distillation's bottleneck and decoder, FastFlow's and CFlow's flows), or without one (DRAEM's two networks, trained
/// from scratch on the preprocessed images): owns the feature extractor, if any, and the trained
/// modules (and disposes them), is the <see cref="ITrainableNetwork"/> that <see cref="GradientTrainer"/> trains, turns
/// a batch's grid maps into anomaly maps at each image's size, and saves every trained module's state by name.
/// </summary>
public abstract class TrainedDetector : ITrainedDetector, ITrainableNetwork
{
    private const string TrainingEntry = "training";

    private readonly IFeatureExtractor? _extractor;

    protected TrainedDetector(IFeatureExtractor extractor, GradientTrainingOptions options)
        : this(extractor ?? throw new ArgumentNullException(nameof(extractor)), extractor.Preprocessing, options)
    {
    }

    /// <summary>A detector that brings its own networks (DRAEM): no frozen backbone; images reach them through <paramref name="preprocessing"/>.</summary>
    protected TrainedDetector(Preprocessing preprocessing, GradientTrainingOptions options) : this(null, preprocessing, options)
    {
    }

    private TrainedDetector(IFeatureExtractor? extractor, Preprocessing preprocessing, GradientTrainingOptions options)
    {
        _extractor = extractor;
        Preprocessing = preprocessing;
        options.Validate();
        Options = options;
        NativeRuntime.Configure();
    }

    public abstract string Model { get; }
    public IDetectorOptions Options { get; }

    /// <summary>The frozen backbone; owned by the detector. A detector without one (<see cref="Backbone"/> null) has none to give.</summary>
    public IFeatureExtractor Extractor => _extractor ?? throw new InvalidOperationException($"{Model} has no frozen backbone.");

    /// <summary>The frozen backbone's reference; null for a detector that brings its own networks.</summary>
    public BackboneReference? Backbone => _extractor is null ? null : BackboneReference.Of(_extractor);

    public TrainingLog? Training { get; internal set; }

    public abstract IReadOnlyList<(string Name, nn.Module Module)> Trained { get; }

    public virtual IReadOnlyDictionary<string, OptimizerSettings> OwnOptimizers => new Dictionary<string, OptimizerSettings>();

    public virtual int? BatchesPerEpoch => null;

    public Preprocessing Preprocessing { get; }

    public abstract bool NeedsImages { get; }

    /// <summary>
    /// The backbone's layers, unless the network's frozen part goes further (SimpleNet: the aggregated patch features,
    /// cached once); none without a backbone.
    /// </summary>
    public virtual IReadOnlyList<Tensor> Frozen(IReadOnlyList<ImageTensor> images) => _extractor?.Extract(images) ?? [];

    public abstract Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator);

    public virtual Tensor ValidationLoss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator) => Loss(images, frozen, generator);

    public virtual void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step) => step(Loss(images, frozen, generator));

    public virtual void StartTraining(IEnumerable<TrainingBatch> training) { }

    public virtual void FinishTraining(IEnumerable<TrainingBatch> training) { }

    public virtual void FinishEpoch(int epochsDone, IEnumerable<TrainingBatch> training) { }

    public long StateBytes => Trained.Sum(m => m.Module.state_dict().Values.Sum(t => t.numel() * t.ElementSize));

    public virtual string StateSummary =>
        $"{Trained.Sum(m => m.Module.parameters().Sum(p => p.numel())):N0} trained parameters ({string.Join(", ", Trained.Select(m => m.Name))})";

    /// <summary>σ (network-input pixels) of the Gaussian smoothing of the upsampled map; 0 for none.</summary>
    protected abstract double MapSigma { get; }

    /// <summary>
    /// Anomaly scores [N, h, w] on a grid over the network input (any resolution; upsampled bilinearly afterwards) for
    /// a batch, from the preprocessed images (when <see cref="NeedsImages"/>) and the frozen features; runs in eval mode
    /// without gradients.
    /// </summary>
    protected abstract Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen);

    /// <summary>An image's score from its grid scores [h, w] and its smoothed map at network resolution: the map's maximum, unless the reference code scores otherwise.</summary>
    protected virtual float ImageScore(Tensor gridScores, ScoreMap view) => view.Data.Max();

    /// <summary>
    /// A batch's grid maps (<see cref="Maps"/>) and, for a method whose image score reads more than that map (DevNet:
    /// the score maps of every input scale), its image scores [N]; null scores: each image's <see cref="ImageScore"/>.
    /// </summary>
    protected virtual (Tensor Maps, Tensor? Scores) MapsAndScores(Tensor? images, IReadOnlyList<Tensor> frozen) => (Maps(images, frozen), null);

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images)
    {
        var rgb = images.Select((image, i) => ImageOps.ToRgb(image, images.Count == 1 ? "The image" : $"Image #{i}")).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (maps, scores) = MapsAndScores(NeedsImages ? TrainingInputs.ToBatch(Preprocessing, rgb) : null, Frozen(rgb));
        var predictions = new Prediction[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (map, view) = AnomalyMaps.ToImage(maps[i], Preprocessing, images[i].Height, images[i].Width, MapSigma);
            predictions[i] = new Prediction(scores is null ? ImageScore(maps[i], view) : scores[i].item<float>(), map) { View = view };
        }
        return predictions;
    }

    /// <summary>Writes each trained module's state (parameters and buffers) under "module.name" and the training log.</summary>
    public void Save(ModelArchiveWriter archive)
    {
        foreach (var (module, key, tensor) in StateEntries()) archive.WriteTensor($"{module}.{key}", tensor);
        if (Training is not null) archive.WriteJson(TrainingEntry, JsonSerializer.SerializeToNode(Training, RecordJson.Compact)!);
    }

    /// <summary>Reads the state <see cref="Save"/> wrote into the modules, strictly: every entry present, with the same shape.</summary>
    protected void Restore(ModelArchiveReader archive)
    {
        using var noGrad = no_grad();
        foreach (var (module, key, tensor) in StateEntries())
        {
            using var saved = archive.ReadTensor($"{module}.{key}", (int)tensor.dim());
            if (!saved.shape.SequenceEqual(tensor.shape) || saved.dtype != tensor.dtype)
                throw archive.Corrupt($"'{module}.{key}' is {saved.dtype} [{string.Join(", ", saved.shape)}], the network needs {tensor.dtype} [{string.Join(", ", tensor.shape)}]");
            tensor.copy_(saved);
        }
        foreach (var (_, m) in Trained) m.eval();
        try { Training = archive.ReadJson(TrainingEntry).Deserialize<TrainingLog>(RecordJson.Compact); }
        catch (JsonException e) { throw archive.Corrupt($"the training log is unreadable ({e.Message})", e); }
    }

    /// <summary>An untrained detector with the state <see cref="Save"/> wrote read into it (<see cref="Restore"/>); disposed if that fails.</summary>
    protected static T Restored<T>(T untrained, ModelArchiveReader archive) where T : TrainedDetector
    {
        try
        {
            untrained.Restore(archive);
            return untrained;
        }
        catch
        {
            untrained.Dispose();
            throw;
        }
    }

    private IEnumerable<(string Module, string Key, Tensor Tensor)> StateEntries() =>
        Trained.SelectMany(m => m.Module.state_dict().Select(p => (m.Name, p.Key, p.Value)));

    public void Dispose()
    {
        foreach (var (_, module) in Trained) module.Dispose();
        _extractor?.Dispose();
        GC.SuppressFinalize(this);
    }
}
