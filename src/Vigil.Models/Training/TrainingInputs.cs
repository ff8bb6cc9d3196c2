using Vigil.Data;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Settings;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// A mini-batch: preprocessed images (when the network reads them), frozen features per layer, and masks [N, 1, H, W]
/// (1 = defective) at the network input's size when a supervised network learns from them.
/// </summary>
public sealed record TrainingBatch(Tensor? Images, IReadOnlyList<Tensor> Frozen, Tensor? Masks = null);

/// <summary>
/// The training or validation images of a gradient training as batches. Without augmentation every image gives the
/// same input each epoch, so the frozen features (and preprocessed images) are computed once and kept in memory when
/// they fit in <see cref="CacheBudgetBytes"/>; with augmentation, or when they do not fit, each batch is loaded,
/// augmented and passed through the frozen backbone as it is drawn.
/// </summary>
public sealed class TrainingInputs : IDisposable
{
    /// <summary>At most a third of the memory available to the process holds cached inputs.</summary>
    public static long CacheBudgetBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 3;

    /// <summary>Images loaded and passed through the backbone together while caching (bounds memory, not results).</summary>
    private const int LoadChunk = 16;

    /// <summary>Training augmentation: half the draws use the image as it is, the others one of this many strengths.</summary>
    private const int AugmentationStrengths = 4;

    private readonly ITrainableNetwork _network;
    private readonly IReadOnlyList<Sample> _samples;
    private readonly AugmentationKinds _augmentations;
    private readonly ulong _seed;
    private readonly bool _masks;
    private Tensor? _images;
    private Tensor[]? _frozen;
    private Tensor? _maskTensor;

    private TrainingInputs(ITrainableNetwork network, IReadOnlyList<Sample> samples, AugmentationKinds augmentations, ulong seed)
    {
        _network = network;
        _samples = samples;
        _augmentations = augmentations;
        _seed = seed;
        _masks = network is ISupervisedNetwork { NeedsMasks: true };
        // The augmentations move pixels without moving the mask with them.
        if (_masks && augmentations != AugmentationKinds.None)
            throw new VigilInputException("This model learns from the masks of its labelled anomalies and trains without augmentation: set augment=none.");
        if (_masks && samples.FirstOrDefault(s => s.IsAnomalous && s.Mask is null) is { } unmasked)
            throw new VigilInputException($"This model learns from the masks of its labelled anomalies, and '{unmasked.SourcePath}' has no mask: " +
                "give every labelled anomaly its ground-truth mask, or use a model that learns from image labels only (devnet).");
    }

    public int Count => _samples.Count;

    /// <summary>Whether the inputs were computed once and are held in memory.</summary>
    public bool Cached => _frozen is not null;

    /// <summary>
    /// Inputs for <paramref name="samples"/>, cached when there is no augmentation and they fit in
    /// <paramref name="cacheBudget"/> bytes (default <see cref="CacheBudgetBytes"/>; the <paramref name="phase"/> of
    /// <paramref name="progress"/> counts the images); <paramref name="seed"/> fixes the augmentation draws.
    /// </summary>
    public static TrainingInputs Prepare(ITrainableNetwork network, IReadOnlyList<Sample> samples, AugmentationKinds augmentations, ulong seed,
        string phase, IProgress<WorkProgress>? progress, CancellationToken cancel, long? cacheBudget = null)
    {
        var inputs = new TrainingInputs(network, samples, augmentations, seed);
        if (augmentations == AugmentationKinds.None && samples.Count > 0)
            inputs.Cache(cacheBudget ?? CacheBudgetBytes, phase, progress, cancel);
        return inputs;
    }

    /// <summary>The batch of <paramref name="indices"/> (into the samples) as drawn in <paramref name="epoch"/>.</summary>
    public TrainingBatch Batch(IReadOnlyList<int> indices, int epoch)
    {
        if (_frozen is not null)
        {
            var index = tensor(indices.Select(i => (long)i).ToArray());
            return new TrainingBatch(_images?.index_select(0, index), _frozen.Select(f => f.index_select(0, index)).ToArray(), _maskTensor?.index_select(0, index));
        }
        var images = new ImageTensor[indices.Count];
        Parallel.For(0, indices.Count, k => images[k] = Load(indices[k], epoch));
        return Compute(images, indices);
    }

    private void Cache(long budget, string phase, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        var images = new List<Tensor>();
        var masks = new List<Tensor>();
        var frozen = new List<Tensor[]>();
        long used = 0;
        try
        {
            for (int start = 0; start < _samples.Count; start += LoadChunk)
            {
                cancel.ThrowIfCancellationRequested();
                int count = Math.Min(LoadChunk, _samples.Count - start);
                var loaded = new ImageTensor[count];
                Parallel.For(0, count, k => loaded[k] = Load(start + k, epoch: -1));
                var batch = Compute(loaded, Enumerable.Range(start, count).ToArray());
                if (batch.Images is not null) images.Add(batch.Images.DetachFromDisposeScope());
                if (batch.Masks is not null) masks.Add(batch.Masks.DetachFromDisposeScope());
                frozen.Add(batch.Frozen.Select(f => f.DetachFromDisposeScope()).ToArray());
                used += Bytes(batch);
                // Stop caching as soon as the projection over all images exceeds the budget; batches are then computed as drawn.
                if (used * _samples.Count / (start + count) > budget)
                {
                    Free(images, masks, frozen);
                    return;
                }
                progress?.Report(new WorkProgress(phase, start + count, _samples.Count));
            }
            _images = Joined(images);
            _maskTensor = Joined(masks);
            _frozen = Enumerable.Range(0, frozen[0].Length)
                .Select(l => frozen.Count == 1 ? frozen[0][l] : cat(frozen.Select(f => f[l]).ToArray(), 0).DetachFromDisposeScope()).ToArray();
            if (frozen.Count > 1) Free(images, masks, frozen);
        }
        catch
        {
            Free(images, masks, frozen);
            throw;
        }
    }

    private static Tensor? Joined(List<Tensor> parts) => parts.Count == 0 ? null : parts.Count == 1 ? parts[0] : cat(parts, 0).DetachFromDisposeScope();

    private static long Bytes(TrainingBatch batch) =>
        new[] { batch.Images, batch.Masks }.Sum(t => t is null ? 0 : t.numel() * t.ElementSize) + batch.Frozen.Sum(f => f.numel() * f.ElementSize);

    private static void Free(List<Tensor> images, List<Tensor> masks, List<Tensor[]> frozen)
    {
        foreach (var t in images.Concat(masks).Concat(frozen.SelectMany(f => f))) t.Dispose();
        images.Clear();
        masks.Clear();
        frozen.Clear();
    }

    /// <summary>The batch of loaded <paramref name="images"/> of samples <paramref name="indices"/>.</summary>
    private TrainingBatch Compute(IReadOnlyList<ImageTensor> images, IReadOnlyList<int> indices)
    {
        var frozen = _network.Frozen(images);
        return new TrainingBatch(_network.NeedsImages ? ToBatch(_network.Preprocessing, images) : null, frozen,
            _masks ? Masks(indices, images) : null);
    }

    /// <summary>
    /// The samples' masks at the network input's size [N, 1, H, W] (1 = defective), geometry as the preprocessing gives
    /// masks; empty for normal images.
    /// </summary>
    private Tensor Masks(IReadOnlyList<int> indices, IReadOnlyList<ImageTensor> images)
    {
        var preprocessing = _network.Preprocessing;
        int h = preprocessing.OutputHeight, w = preprocessing.OutputWidth;
        var data = new float[indices.Count * h * w];
        Parallel.For(0, indices.Count, k =>
        {
            var sample = _samples[indices[k]];
            if (!sample.IsAnomalous) return;
            var mask = preprocessing.ApplyToMask(sample.LoadMask(images[k].Height, images[k].Width));
            for (int p = 0; p < h * w; p++) data[k * h * w + p] = mask.Data[p] ? 1f : 0f;
        });
        return tensor(data, [indices.Count, 1, h, w]);
    }

    /// <summary>RGB images preprocessed into one network input tensor [N, 3, H, W].</summary>
    public static Tensor ToBatch(Preprocessing preprocessing, IReadOnlyList<ImageTensor> images)
    {
        int h = preprocessing.OutputHeight, w = preprocessing.OutputWidth;
        var data = new float[images.Count * 3 * h * w];
        Parallel.For(0, images.Count, i => preprocessing.Apply(images[i]).Data.CopyTo(data, i * 3 * h * w));
        return tensor(data, [images.Count, 3, h, w]);
    }

    /// <summary>Sample <paramref name="index"/> in RGB, augmented for <paramref name="epoch"/> when augmentation is on (epoch −1: as it is).</summary>
    private ImageTensor Load(int index, int epoch)
    {
        var sample = _samples[index];
        var image = ImageOps.ToRgb(sample.LoadImage(), sample.SourcePath);
        if (epoch < 0 || _augmentations == AugmentationKinds.None) return image;
        var random = new SeededRandom(SeededRandom.Derive(SeededRandom.Derive(_seed, epoch), index));
        if (random.Chance(0.5)) return image;
        int strength = 1 + (int)random.NextInt64(AugmentationStrengths);
        return AugmentationSchedule.Variant(_augmentations, strength, AugmentationStrengths, random.NextUInt64()).Apply(image);
    }

    public void Dispose()
    {
        _images?.Dispose();
        _maskTensor?.Dispose();
        foreach (var t in _frozen ?? []) t.Dispose();
    }
}
