using System.Diagnostics;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Records;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// RegAD's training: registration training on the categories of the meta dataset other than the target's (train.py
/// train(), datasets/mvtec.py FSAD_Dataset_train), then the Gaussians of the target's support set (the training
/// images). An epoch takes every normal training image of every other category once as a query, in seeded batches of
/// one category each, every query with K support images of its category drawn at random (never itself), the batches
/// in a seeded random order; the loss is <see cref="RegAdNetwork.RegistrationLoss"/>, stepped with the options'
/// optimizer and learning-rate schedule. Every draw depends on (seed, epoch) alone.
/// </summary>
public sealed class RegAdTrainer(RegAdOptions options) : IDetectorTrainer
{
    private const string Phase = "train";

    public IDetector Fit(TrainingData data, TrainingContext context)
    {
        options.Validate();
        context.Cancel.ThrowIfCancellationRequested();
        if (data.Normal.Count == 0) throw new VigilInputException("RegAD needs the target's normal training images as its support set; got no training image.");
        var extractor = context.Backbone.Open(["layer3"]);
        RegAdDetector detector;
        try { detector = new RegAdDetector(extractor, options, context.Seed); }
        catch
        {
            extractor.Dispose();
            throw;
        }
        try
        {
            detector.Training = options.TrainsRegistration ? Register(detector, data.Normal, context)
                : new TrainingLog(0, [], 0, "no registration training (meta=none)", [], 0, 0, false);
            detector.FitSupport(data.Normal, context.Progress, context.Cancel);
            return detector;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    /// <summary>The registration training; returns its log.</summary>
    private TrainingLog Register(RegAdDetector detector, IReadOnlyList<Sample> support, TrainingContext context)
    {
        var pools = MetaPools(support, context);
        int shot = options.Shot ?? Math.Min(support.Count, RegAdOptions.MaxDefaultShot);
        ulong seed = SeededRandom.Derive((ulong)context.Seed, "regad episodes");
        var network = detector.Network;
        var parameters = network.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new GradientTrainer(options).CreateOptimizer(parameters);
        int perEpoch = pools.Sum(p => (p.Count + options.BatchSize - 1) / options.BatchSize);
        var log = new List<EpochRecord>();
        int done = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            network.train();
            var clock = Stopwatch.StartNew();
            var episodes = Episodes(pools, shot, SeededRandom.Derive(seed, epoch));
            double sum = 0, lr = 0;
            for (int step = 0; step < episodes.Count; step++)
            {
                context.Cancel.ThrowIfCancellationRequested();
                lr = LearningRateSchedule.At(options, epoch, (double)step / episodes.Count);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                using var scope = NewDisposeScope();
                var (queries, supports) = Load(detector, episodes[step]);
                var loss = detector.RegistrationLoss(queries, supports);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new VigilInputException($"RegAD's registration loss became {value} at epoch {epoch + 1}, step {step + 1}; lower lr or set clip.");
                optimizer.zero_grad();
                loss.backward();
                if (options.GradientClip is { } clip) nn.utils.clip_grad_norm_(parameters, clip);
                optimizer.step();
                sum += value;
                context.Progress?.Report(new WorkProgress(Phase, ++done, perEpoch * options.Epochs, $"epoch {epoch + 1}/{options.Epochs} · loss {value:G4}"));
            }
            log.Add(new EpochRecord(epoch + 1, sum / episodes.Count, null, lr, clock.Elapsed.TotalSeconds));
        }
        network.eval();
        int images = pools.Sum(p => p.Count);
        return new TrainingLog(options.Epochs, log, options.Epochs, $"all {Counted.Of(options.Epochs, "epoch")}",
            [$"Registration pairs from {options.Meta}: {Counted.Of(pools.Count, "category", "categories")} other than the target's, {Counted.Of(images, "image")}, {shot} supports per query."],
            images, 0, false);
    }

    /// <summary>The normal training images of each meta category other than the target's (those with at least 2 images, so a query has supports).</summary>
    private List<IReadOnlyList<Sample>> MetaPools(IReadOnlyList<Sample> support, TrainingContext context)
    {
        var targets = support.Select(s => s.Category).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var preparation = context.Progress is { } p ? WorkProgress.ForPhase(p, "meta dataset") : null;
        var dataset = DatasetCatalog.Open(options.Meta, preparation: preparation);
        var pools = dataset.Categories.Where(c => !targets.Contains(c))
            .Select(c => (IReadOnlyList<Sample>)dataset.Load(c).Train.Where(s => !s.IsAnomalous).ToList())
            .Where(images => images.Count >= 2).ToList();
        if (pools.Count == 0)
            throw new VigilInputException($"RegAD's meta dataset '{options.Meta}' has no category other than the target's ({string.Join(", ", targets)}) with at least 2 normal training images " +
                "to draw registration pairs from: name another dataset (meta=mvtec:/path, meta=synthetic) or train without registration (meta=none).");
        return pools;
    }

    /// <summary>One epoch's episodes: (query, its supports) per query, batches of one category, in a seeded order.</summary>
    private List<(Sample Query, Sample[] Supports)[]> Episodes(List<IReadOnlyList<Sample>> pools, int shot, ulong seed)
    {
        var episodes = new List<(Sample, Sample[])[]>();
        for (int c = 0; c < pools.Count; c++)
        {
            var pool = pools[c];
            var random = new SeededRandom(SeededRandom.Derive(seed, c));
            var order = Enumerable.Range(0, pool.Count).ToArray();
            SeededRandom.Shuffle(order, random.NextUInt64());
            foreach (var chunk in order.Chunk(options.BatchSize))
                episodes.Add(chunk.Select(q => (pool[q], Enumerable.Range(0, shot).Select(_ =>
                {
                    // datasets/mvtec.py: a uniform draw among the category's images, redrawn while it is the query.
                    int s = (int)random.NextInt64(pool.Count - 1);
                    return pool[s >= q ? s + 1 : s];
                }).ToArray())).ToArray());
        }
        var shuffled = episodes.ToArray();
        SeededRandom.Shuffle(shuffled, SeededRandom.Derive(seed, "batch order"));
        return [.. shuffled];
    }

    /// <summary>An episode's preprocessed queries [B, 3, H, W] and supports [B·K, 3, H, W], each distinct image decoded once.</summary>
    private static (Tensor Queries, Tensor Supports) Load(RegAdDetector detector, (Sample Query, Sample[] Supports)[] episode)
    {
        var samples = episode.Select(e => e.Query).Concat(episode.SelectMany(e => e.Supports)).ToList();
        var distinct = samples.Distinct().ToArray();
        var loaded = new ImageTensor[distinct.Length];
        Parallel.For(0, distinct.Length, i => loaded[i] = ImageOps.ToRgb(distinct[i].LoadImage(), $"Meta image '{distinct[i].SourcePath}'"));
        var bySample = distinct.Zip(loaded).ToDictionary(p => p.First, p => p.Second);
        var batch = TrainingInputs.ToBatch(detector.Preprocessing, samples.Select(s => bySample[s]).ToList());
        return (batch[..episode.Length], batch[episode.Length..]);
    }
}
