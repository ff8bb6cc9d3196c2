using Vigil.Data;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Settings;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>A mini-batch: preprocessed images (when the network reads them) and frozen features per layer.</summary>
public sealed record TrainingBatch(Tensor? Images, IReadOnlyList<Tensor> Frozen);

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
    private Tensor? _images;
    private Tensor[]? _frozen;

    private TrainingInputs(ITrainableNetwork network, IReadOnlyList<Sample> samples, AugmentationKinds augmentations, ulong seed)
    {
        _network = network;
        _samples = samples;
        _augmentations = augmentations;
        _seed = seed;
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
            return new TrainingBatch(_images?.index_select(0, index), _frozen.Select(f => f.index_select(0, index)).ToArray());
        }
        var images = new ImageTensor[indices.Count];
        Parallel.For(0, indices.Count, k => images[k] = Load(indices[k], epoch));
        return Compute(images);
    }

    private void Cache(long budget, string phase, IProgress<WorkProgress>? progress, CancellationToken cancel)
    {
        var images = new List<Tensor>();
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
                var batch = Compute(loaded);
                if (batch.Images is not null) images.Add(batch.Images.DetachFromDisposeScope());
                frozen.Add(batch.Frozen.Select(f => f.DetachFromDisposeScope()).ToArray());
                used += Bytes(batch);
                // Stop caching as soon as the projection over all images exceeds the budget; batches are then computed as drawn.
                if (used * _samples.Count / (start + count) > budget)
                {
                    Free(images, frozen);
                    return;
                }
                progress?.Report(new WorkProgress(phase, start + count, _samples.Count));
            }
            _images = images.Count == 0 ? null : images.Count == 1 ? images[0] : cat(images, 0).DetachFromDisposeScope();
            _frozen = Enumerable.Range(0, frozen[0].Length)
                .Select(l => frozen.Count == 1 ? frozen[0][l] : cat(frozen.Select(f => f[l]).ToArray(), 0).DetachFromDisposeScope()).ToArray();
            if (images.Count > 1 || frozen.Count > 1) Free(images, frozen);
        }
        catch
        {
            Free(images, frozen);
            throw;
        }
    }

    private static long Bytes(TrainingBatch batch) =>
        (batch.Images is { } i ? i.numel() * i.ElementSize : 0) + batch.Frozen.Sum(f => f.numel() * f.ElementSize);

    private static void Free(List<Tensor> images, List<Tensor[]> frozen)
    {
        foreach (var t in images) t.Dispose();
        foreach (var t in frozen.SelectMany(f => f)) t.Dispose();
        images.Clear();
        frozen.Clear();
    }

    private TrainingBatch Compute(IReadOnlyList<ImageTensor> images)
    {
        var frozen = _network.Frozen(images);
        return new TrainingBatch(_network.NeedsImages ? ToBatch(_network.Preprocessing, images) : null, frozen);
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
        foreach (var t in _frozen ?? []) t.Dispose();
    }
}
