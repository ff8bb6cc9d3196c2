using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Randomness;
using Vigil.Records;
using static TorchSharp.torch;

namespace Vigil.Training;

/// <summary>
/// The one training loop of every gradient-trained detector: seeded mini-batches (cached frozen features without
/// augmentation), the optimizer and learning-rate schedule of <see cref="GradientTrainingOptions"/>, gradient clipping,
/// validation loss on held-back normal images with early stopping and best-epoch selection, and checkpoints every N
/// epochs and on cancellation, from which the same run resumes exactly.
/// <para>
/// Exactness of a resume: every random draw is a pure function of (seed, epoch, step): the image order of an epoch,
/// its augmentations and the per-step generator handed to the loss; the checkpoint holds the trained modules' states,
/// the optimizer's state and the loop's counters, so a resumed run repeats the uninterrupted run's arithmetic.
/// </para>
/// </summary>
public sealed class GradientTrainer(GradientTrainingOptions options)
{
    private const string CheckpointFormat = "vigil-checkpoint 1";

    /// <summary>
    /// Trains <paramref name="network"/> on <paramref name="data"/>'s normal images (validation: its validation images,
    /// else the options' share of the normal images), and on its labelled anomalies too when the network is an
    /// <see cref="ISupervisedNetwork"/> (batches as its <see cref="ISupervisedNetwork.Sampling"/> says). <paramref name="run"/> identifies the run (model, options, backbone)
    /// so a checkpoint of another run is never resumed. Leaves the trained modules in eval mode.
    /// </summary>
    public TrainingLog Run(ITrainableNetwork network, TrainingData data, TrainingContext context, string run)
    {
        options.Validate();
        NativeRuntime.Configure();
        var (train, validation) = data.Validation.Count > 0 || options.ValidationRatio == 0
            ? (data.Normal, data.Validation)
            : ValidationSplit.Take(data.Normal, options.ValidationRatio, unchecked((int)SeededRandom.Derive((ulong)context.Seed, "early-stopping")));
        if (train.Count == 0) throw new VigilInputException("Training needs at least one normal training image; got none.");
        var supervised = network as ISupervisedNetwork;
        if (supervised is not null && data.Anomalies.Count == 0)
            throw new ArgumentException("A supervised network needs labelled anomalies; its trainer refuses data without them.", nameof(data));
        // A supervised network's samples: the normal images, then the labelled anomalies (index ≥ train.Count).
        IReadOnlyList<Sample> samples = supervised is null ? train : [.. train, .. data.Anomalies];
        ulong seed = (ulong)context.Seed;
        string fingerprint = Fingerprint(run, context.Seed, samples, validation);

        using var optimizer = new Optimizers(CreateOptimizers(network));
        var loop = new LoopState();
        bool resumed = context.Checkpoints is { } store && Resume(store, fingerprint, network, optimizer, loop);

        using var trainInputs = TrainingInputs.Prepare(network, samples, options.Augmentations, seed, "features", context.Progress, context.Cancel);
        using var validationInputs = TrainingInputs.Prepare(network, validation, Settings.AugmentationKinds.None, seed, "validation features", context.Progress, context.Cancel);
        if (!resumed)
        {
            SetTraining(network, false);
            using (no_grad()) network.StartTraining(AsGiven(trainInputs, train.Count, context.Cancel));
        }
        var steps = Enumerable.Range(0, options.Epochs).Select(e => StepsIn(network, supervised?.Sampling, e, train.Count, data.Anomalies.Count)).ToArray();
        // Each step's generator is drawn from (epoch · stride + step): distinct for every step, whatever an epoch's length.
        int stepStride = steps.Max();
        int totalSteps = steps.Sum();

        while (loop.Epoch < options.Epochs && loop.StopReason is null)
        {
            SetTraining(network, true);
            int stepsPerEpoch = steps[loop.Epoch];
            var order = Order(network, supervised?.Sampling, train.Count, data.Anomalies.Count, stepsPerEpoch, loop.Epoch, seed);
            var clock = Stopwatch.StartNew();
            double lr = 0;
            for (; loop.Step < stepsPerEpoch; loop.Step++)
            {
                if (context.Cancel.IsCancellationRequested)
                {
                    loop.EpochSeconds += clock.Elapsed.TotalSeconds;
                    if (context.Checkpoints is { } s) Save(s, fingerprint, network, optimizer, loop);
                    context.Cancel.ThrowIfCancellationRequested();
                }
                lr = LearningRateSchedule.At(options, loop.Epoch, (double)loop.Step / stepsPerEpoch);
                optimizer.SetRates(lr / options.LearningRate);
                double loss = TrainStep(network, optimizer, trainInputs,
                    order.Skip(loop.Step * options.BatchSize).Take(options.BatchSize).ToArray(), loop, seed, stepStride, train.Count);
                loop.LossSum += loss;
                loop.LossSteps++;
                int global = steps.Take(loop.Epoch).Sum() + loop.Step + 1;
                context.Progress?.Report(new WorkProgress("train", global, totalSteps, Detail(loop, loss)));
            }
            SetTraining(network, false);
            using (no_grad()) network.FinishEpoch(loop.Epoch + 1, AsGiven(trainInputs, train.Count, context.Cancel));
            double? validationLoss = validation.Count > 0 ? Validate(network, validationInputs, seed) : null;
            loop.EpochSeconds += clock.Elapsed.TotalSeconds;
            loop.Log.Add(new EpochRecord(loop.Epoch + 1, loop.LossSum / loop.LossSteps, validationLoss, lr, loop.EpochSeconds));
            Track(network, loop, validationLoss);
            (loop.Epoch, loop.Step, loop.LossSum, loop.LossSteps, loop.EpochSeconds) = (loop.Epoch + 1, 0, 0, 0, 0);
            if (context.Checkpoints is { } store2 && loop.Epoch % options.CheckpointEvery == 0 && loop.Epoch < options.Epochs && loop.StopReason is null)
                Save(store2, fingerprint, network, optimizer, loop);
        }
        loop.StopReason ??= $"all {Counted.Of(options.Epochs, "epoch")}";
        int kept = loop.Log.Count;
        if (options.Keep == KeepWeights.Best && loop.Best is { } best && loop.BestEpoch != loop.Log.Count)
        {
            LoadModules(network, best);
            kept = loop.BestEpoch;
        }
        SetTraining(network, false);
        using (no_grad()) network.FinishTraining(AsGiven(trainInputs, train.Count, context.Cancel));
        context.Checkpoints?.Delete();
        return new TrainingLog(options.Epochs, loop.Log, kept, loop.StopReason, loop.Notes, samples.Count, validation.Count, trainInputs.Cached);
    }

    /// <summary>
    /// The batches of <paramref name="epoch"/>: a pass over the normal images, the network's fixed number, or what a
    /// supervised network's sampling says.
    /// </summary>
    private int StepsIn(ITrainableNetwork network, SupervisedSampling? sampling, int epoch, int normals, int anomalies) => sampling switch
    {
        BalancedSampling balanced => balanced.StepsPerEpoch,
        PooledSampling pooled => Batches(normals + (epoch < pooled.NormalOnlyEpochs ? 0 : pooled.AnomalyRepeats * anomalies)),
        _ => network.BatchesPerEpoch ?? Batches(normals),
    };

    private int Batches(int images) => (images + options.BatchSize - 1) / options.BatchSize;

    /// <summary>The sample indices of <paramref name="epoch"/> in batch order (labelled anomalies from <paramref name="normals"/> on).</summary>
    private int[] Order(ITrainableNetwork network, SupervisedSampling? sampling, int normals, int anomalies, int steps, int epoch, ulong seed)
    {
        if (sampling is BalancedSampling balanced) return BalancedOrder(balanced, normals, anomalies, steps, epoch, seed);
        ulong orderSeed = SeededRandom.Derive(SeededRandom.Derive(seed, "order"), epoch);
        if (sampling is null && network.BatchesPerEpoch is not null) return Cycle(normals, orderSeed).Take(steps * options.BatchSize).ToArray();
        var order = sampling is PooledSampling pooled && epoch >= pooled.NormalOnlyEpochs
            ? [.. Enumerable.Range(0, normals), .. Enumerable.Repeat(0, pooled.AnomalyRepeats).SelectMany(_ => Enumerable.Range(normals, anomalies))]
            : Enumerable.Range(0, normals).ToArray();
        SeededRandom.Shuffle(order, orderSeed);
        return order;
    }

    /// <summary>
    /// An epoch's batches for a supervised network, as DevNet's <c>BalancedBatchSampler</c> draws them: each of the
    /// <paramref name="steps"/> batches holds the sampling's share of normal images then the rest labelled anomalies, each side
    /// taken in turn from seeded permutations of its images (a new permutation when one is used up). The permutations
    /// restart each epoch (the official generators run on across epochs) so that an epoch depends on (seed, epoch) alone.
    /// </summary>
    private int[] BalancedOrder(BalancedSampling sampling, int normals, int anomalies, int steps, int epoch, ulong seed)
    {
        int normalPerBatch = options.BatchSize * sampling.NormalParts / sampling.AllParts;
        var normal = Cycle(normals, SeededRandom.Derive(SeededRandom.Derive(seed, "normal order"), epoch)).GetEnumerator();
        var anomalous = Cycle(anomalies, SeededRandom.Derive(SeededRandom.Derive(seed, "anomaly order"), epoch)).GetEnumerator();
        var order = new int[steps * options.BatchSize];
        for (int k = 0; k < order.Length; k++)
        {
            bool takeNormal = k % options.BatchSize < normalPerBatch;
            var source = takeNormal ? normal : anomalous;
            source.MoveNext();
            order[k] = takeNormal ? source.Current : normals + source.Current;
        }
        return order;
    }

    /// <summary>0 … <paramref name="count"/> − 1 in seeded permutations one after another, without end.</summary>
    private static IEnumerable<int> Cycle(int count, ulong seed)
    {
        for (long round = 0; ; round++)
        {
            var permutation = Enumerable.Range(0, count).ToArray();
            SeededRandom.Shuffle(permutation, SeededRandom.Derive(seed, round));
            foreach (int i in permutation) yield return i;
        }
    }

    /// <summary>
    /// The optimizer steps of one batch (one, or several where the network takes several); returns their mean loss. A
    /// supervised network's batch is labelled by index: from <paramref name="normals"/> on, the samples are anomalies.
    /// </summary>
    private double TrainStep(ITrainableNetwork network, Optimizers optimizer, TrainingInputs inputs,
        int[] indices, LoopState loop, ulong seed, int stepStride, int normals)
    {
        using var scope = NewDisposeScope();
        var batch = inputs.Batch(indices, loop.Epoch);
        using var generator = new Generator(SeededRandom.Derive(SeededRandom.Derive(seed, "step"), (long)loop.Epoch * stepStride + loop.Step));
        double sum = 0;
        int steps = 0;
        // A step updates every optimizer, or (an alternating network's) those of the modules it names.
        Action<Tensor, IReadOnlyCollection<string>?> stepOn = (loss, modules) =>
        {
            var selected = optimizer.Of(modules);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new VigilInputException($"The training loss became {value} at epoch {loop.Epoch + 1}, step {loop.Step + 1}: the learning rate " +
                    $"{options.LearningRate.ToString(CultureInfo.InvariantCulture)} is probably too high for this data; lower lr or set clip.");
            optimizer.zero_grad();
            loss.backward();
            if (options.GradientClip is { } clip) nn.utils.clip_grad_norm_(selected.SelectMany(o => o.Parameters).ToList(), clip);
            foreach (var o in selected) o.Optimizer.step();
            sum += value;
            steps++;
        };
        Action<Tensor> step = loss => stepOn(loss, null);
        // A pooled sampling's first epochs see normal images only, trained as an unsupervised network.
        if (network is ISupervisedNetwork supervised && !(supervised.Sampling is PooledSampling pooled && loop.Epoch < pooled.NormalOnlyEpochs))
            supervised.TrainBatch(batch, tensor(indices.Select(i => i >= normals ? 1f : 0f).ToArray()), generator, step);
        else if (network is IAlternatingNetwork alternating) alternating.TrainBatch(batch.Images, batch.Frozen, generator, (loss, modules) => stepOn(loss, modules));
        else network.TrainBatch(batch.Images, batch.Frozen, generator, step);
        if (steps == 0) throw new InvalidOperationException("The network took no optimizer step on a training batch.");
        return sum / steps;
    }

    /// <summary>
    /// The first <paramref name="count"/> inputs (the normal training images; a supervised network's labelled anomalies
    /// follow them and stay out) in order, as they are (not augmented), in batches; each batch's tensors are disposed when
    /// the next is drawn.
    /// </summary>
    private IEnumerable<TrainingBatch> AsGiven(TrainingInputs inputs, int count, CancellationToken cancel)
    {
        for (int start = 0; start < count; start += options.BatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            yield return inputs.Batch(Enumerable.Range(start, Math.Min(options.BatchSize, count - start)).ToArray(), epoch: -1);
        }
    }

    /// <summary>Mean loss over the validation images in eval mode, with one fixed generator so epochs compare on the same draws.</summary>
    private double Validate(ITrainableNetwork network, TrainingInputs inputs, ulong seed)
    {
        SetTraining(network, false);
        using var noGrad = no_grad();
        double sum = 0;
        using var generator = new Generator(SeededRandom.Derive(seed, "validation"));
        for (int start = 0; start < inputs.Count; start += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(options.BatchSize, inputs.Count - start)).ToArray();
            var batch = inputs.Batch(indices, epoch: -1);
            sum += network.ValidationLoss(batch.Images, batch.Frozen, generator).item<float>() * indices.Length;
        }
        SetTraining(network, true);
        return sum / inputs.Count;
    }

    /// <summary>Keeps the best weights so far and decides early stopping.</summary>
    private void Track(ITrainableNetwork network, LoopState loop, double? validationLoss)
    {
        if (validationLoss is not { } v) return;
        if (loop.BestLoss is null || v < loop.BestLoss)
        {
            loop.BestLoss = v;
            loop.BestEpoch = loop.Epoch + 1;
            loop.SinceBest = 0;
            if (options.Keep == KeepWeights.Best) loop.Best = SaveModules(network);
        }
        else if (options.Patience is { } patience && ++loop.SinceBest >= patience)
            loop.StopReason = $"no lower validation loss for {Counted.Of(patience, "epoch")} (best: epoch {loop.BestEpoch})";
    }

    /// <summary>The optimizer the options name, over <paramref name="parameters"/>.</summary>
    public TorchSharp.Modules.OptimizerHelper CreateOptimizer(IReadOnlyList<TorchSharp.Modules.Parameter> parameters) =>
        CreateOptimizer(parameters, new OptimizerSettings(options.Optimizer, options.LearningRate, options.WeightDecay, options.Beta1, options.Beta2, options.Momentum, options.AmsGrad));

    private static TorchSharp.Modules.OptimizerHelper CreateOptimizer(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, OptimizerSettings settings) => settings.Kind switch
    {
        OptimizerKind.Sgd => optim.SGD(parameters, settings.LearningRate, momentum: settings.Momentum, weight_decay: settings.WeightDecay),
        OptimizerKind.Adam => optim.Adam(parameters, settings.LearningRate, settings.Beta1, settings.Beta2, weight_decay: settings.WeightDecay, amsgrad: settings.AmsGrad),
        OptimizerKind.AdamW => optim.AdamW(parameters, settings.LearningRate, settings.Beta1, settings.Beta2, weight_decay: settings.WeightDecay, amsgrad: settings.AmsGrad),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, null),
    };

    /// <summary>
    /// The options' optimizer over the modules without one of their own (when they have parameters), then each
    /// <see cref="ITrainableNetwork.OwnOptimizers"/> entry's over its module, with their base learning rates.
    /// </summary>
    private List<ModuleOptimizer> CreateOptimizers(ITrainableNetwork network)
    {
        var own = network.OwnOptimizers;
        var unknown = own.Keys.Except(network.Trained.Select(m => m.Name)).ToList();
        if (unknown.Count > 0) throw new InvalidOperationException($"Optimizers are given for modules that are not trained: {string.Join(", ", unknown)}.");
        static List<TorchSharp.Modules.Parameter> Trainable(IEnumerable<nn.Module> modules) =>
            modules.SelectMany(m => m.parameters()).Where(p => p.requires_grad).ToList();
        var optimizers = new List<ModuleOptimizer>();
        var sharing = network.Trained.Where(m => !own.ContainsKey(m.Name)).ToList();
        var shared = Trainable(sharing.Select(m => m.Module));
        if (shared.Count > 0) optimizers.Add(new(CreateOptimizer(shared), options.LearningRate, [.. sharing.Select(m => m.Name)], shared));
        foreach (var (name, module) in network.Trained)
            if (own.TryGetValue(name, out var settings))
            {
                var parameters = Trainable([module]);
                optimizers.Add(new(CreateOptimizer(parameters, settings), settings.LearningRate, [name], parameters));
            }
        return optimizers;
    }

    /// <summary>An optimizer with its base learning rate, the trained modules it optimises and their parameters.</summary>
    private sealed record ModuleOptimizer(TorchSharp.Modules.OptimizerHelper Optimizer, double Rate, string[] Modules, List<TorchSharp.Modules.Parameter> Parameters);

    /// <summary>The run's optimizers: one zero_grad for all of them; a step steps all, or those of an alternating network's step's modules.</summary>
    private sealed class Optimizers(List<ModuleOptimizer> optimizers) : IDisposable
    {
        /// <summary>
        /// Every optimizer (<paramref name="modules"/> null), or those over the named modules; a name that is not a
        /// trained module with parameters, or that names only some of the modules sharing an optimizer, is an error.
        /// </summary>
        public IReadOnlyList<ModuleOptimizer> Of(IReadOnlyCollection<string>? modules)
        {
            if (modules is null) return optimizers;
            var unknown = modules.Where(m => !optimizers.Any(o => o.Modules.Contains(m))).ToList();
            if (unknown.Count > 0) throw new InvalidOperationException($"A training step names modules without an optimizer: {string.Join(", ", unknown)}.");
            var selected = optimizers.Where(o => o.Modules.Any(modules.Contains)).ToList();
            var partial = selected.FirstOrDefault(o => !o.Modules.All(modules.Contains));
            if (partial is not null)
                throw new InvalidOperationException($"A training step names only some of the modules sharing an optimizer ({string.Join(", ", partial.Modules)}); name all of them or give them optimizers of their own.");
            return selected;
        }

        /// <summary>Sets every optimizer's rate to its base rate × <paramref name="factor"/> (the schedule's rate / the options' lr).</summary>
        public void SetRates(double factor)
        {
            foreach (var o in optimizers)
                foreach (var group in o.Optimizer.ParamGroups) group.LearningRate = o.Rate * factor;
        }

        public void zero_grad()
        {
            foreach (var o in optimizers) o.Optimizer.zero_grad();
        }

        /// <summary>Each optimizer's state in order, each as its length and bytes (one optimizer: the format of a single one).</summary>
        public void Save(BinaryWriter writer)
        {
            foreach (var optimizer in optimizers.Select(o => o.Optimizer))
            {
                using var state = new MemoryStream();
                using (var w = new BinaryWriter(state, Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(w);
                writer.Write((int)state.Length);
                writer.Write(state.ToArray());
            }
        }

        public void Load(BinaryReader reader)
        {
            foreach (var optimizer in optimizers.Select(o => o.Optimizer))
            {
                using var stateReader = new BinaryReader(new MemoryStream(reader.ReadBytes(reader.ReadInt32())));
                optimizer.load_state_dict(stateReader);
            }
        }

        public void Dispose()
        {
            foreach (var o in optimizers) o.Optimizer.Dispose();
        }
    }

    private static void SetTraining(ITrainableNetwork network, bool training)
    {
        foreach (var (_, module) in network.Trained) module.train(training);
    }

    private string Detail(LoopState loop, double loss)
    {
        var text = $"epoch {loop.Epoch + 1}/{options.Epochs} · loss {loss:G4}";
        return loop.Log.LastOrDefault()?.ValidationLoss is { } v ? text + $" · val {v:G4}" : text;
    }

    /// <summary>Identifies a run: its description, seed and exact images (training and validation), as a hash.</summary>
    private string Fingerprint(string run, long seed, IReadOnlyList<Sample> train, IReadOnlyList<Sample> validation)
    {
        var text = new StringBuilder().AppendLine(run).AppendLine(seed.ToString(CultureInfo.InvariantCulture));
        foreach (var s in train) text.Append("T ").AppendLine(s.Id);
        foreach (var s in validation) text.Append("V ").AppendLine(s.Id);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static byte[] SaveModules(ITrainableNetwork network)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
            foreach (var (_, module) in network.Trained) module.save(writer);
        return memory.ToArray();
    }

    private static void LoadModules(ITrainableNetwork network, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        foreach (var (_, module) in network.Trained) module.load(reader);
    }

    /// <summary>Writes the checkpoint: the loop's counters as text, then module states, optimizer state and best weights.</summary>
    private static void Save(ICheckpointStore store, string fingerprint, ITrainableNetwork network, Optimizers optimizer, LoopState loop)
    {
        store.Write(stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(CheckpointFormat);
            writer.Write(fingerprint);
            loop.Write(writer);
            var modules = SaveModules(network);
            writer.Write(modules.Length);
            writer.Write(modules);
            optimizer.Save(writer);
        });
    }

    /// <summary>
    /// Continues from the store's checkpoint when it belongs to this run (true); a checkpoint of another run is set
    /// aside with a note.
    /// </summary>
    private static bool Resume(ICheckpointStore store, string fingerprint, ITrainableNetwork network, Optimizers optimizer, LoopState loop)
    {
        using var stream = store.OpenRead();
        if (stream is null) return false;
        try
        {
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != CheckpointFormat) throw new InvalidDataException("not a Vigil checkpoint of this version");
            if (reader.ReadString() != fingerprint)
            {
                loop.Notes.Add($"The checkpoint at {store.Location} was of another run (model, options, seed or images differ); trained from the start.");
                return false;
            }
            var restored = LoopState.Read(reader);
            LoadModules(network, reader.ReadBytes(reader.ReadInt32()));
            optimizer.Load(reader);
            loop.CopyFrom(restored);
            loop.Notes.Add($"Resumed from the checkpoint at epoch {loop.Epoch + 1}, step {loop.Step + 1} ({store.Location}).");
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException)
        {
            throw new VigilInputException($"The training checkpoint {store.Location} cannot be read ({e.Message}); delete it to train from the start.", e);
        }
    }

    /// <summary>The loop's position and history: what a checkpoint needs besides weights.</summary>
    private sealed class LoopState
    {
        public int Epoch, Step, LossSteps, BestEpoch, SinceBest;
        public double LossSum, EpochSeconds;
        public double? BestLoss;
        public byte[]? Best;
        public string? StopReason;
        public List<EpochRecord> Log = [];
        public List<string> Notes = [];

        public void Write(BinaryWriter w)
        {
            w.Write(Epoch); w.Write(Step); w.Write(LossSteps); w.Write(BestEpoch); w.Write(SinceBest);
            w.Write(LossSum); w.Write(EpochSeconds);
            w.Write(BestLoss.HasValue); w.Write(BestLoss ?? 0);
            w.Write(Best?.Length ?? -1); if (Best is not null) w.Write(Best);
            w.Write(Log.Count);
            foreach (var e in Log)
            {
                w.Write(e.Epoch); w.Write(e.Loss); w.Write(e.ValidationLoss.HasValue); w.Write(e.ValidationLoss ?? 0); w.Write(e.LearningRate); w.Write(e.Seconds);
            }
            w.Write(Notes.Count);
            foreach (var n in Notes) w.Write(n);
        }

        public static LoopState Read(BinaryReader r)
        {
            var s = new LoopState
            {
                Epoch = r.ReadInt32(), Step = r.ReadInt32(), LossSteps = r.ReadInt32(), BestEpoch = r.ReadInt32(), SinceBest = r.ReadInt32(),
                LossSum = r.ReadDouble(), EpochSeconds = r.ReadDouble(),
            };
            bool hasBest = r.ReadBoolean();
            double bestLoss = r.ReadDouble();
            s.BestLoss = hasBest ? bestLoss : null;
            int bestLength = r.ReadInt32();
            s.Best = bestLength < 0 ? null : r.ReadBytes(bestLength);
            int epochs = r.ReadInt32();
            for (int i = 0; i < epochs; i++)
            {
                int epoch = r.ReadInt32();
                double loss = r.ReadDouble();
                bool hasValidation = r.ReadBoolean();
                double validation = r.ReadDouble();
                s.Log.Add(new EpochRecord(epoch, loss, hasValidation ? validation : null, r.ReadDouble(), r.ReadDouble()));
            }
            int notes = r.ReadInt32();
            for (int i = 0; i < notes; i++) s.Notes.Add(r.ReadString());
            return s;
        }

        public void CopyFrom(LoopState s)
        {
            (Epoch, Step, LossSteps, BestEpoch, SinceBest, LossSum, EpochSeconds, BestLoss, Best) =
                (s.Epoch, s.Step, s.LossSteps, s.BestEpoch, s.SinceBest, s.LossSum, s.EpochSeconds, s.BestLoss, s.Best);
            Log.AddRange(s.Log);
            Notes.AddRange(s.Notes);
        }
    }
}
