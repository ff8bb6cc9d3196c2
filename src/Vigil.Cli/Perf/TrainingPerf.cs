using System.Diagnostics;
using TorchSharp;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Randomness;
using Vigil.Training;
using Vigil.Weights;
using static TorchSharp.torch;

namespace Vigil.Cli.Perf;

/// <summary>
/// One training epoch of each gradient-trained model two ways on the same images, networks and CPU: a straightforward
/// libtorch loop as a PyTorch user writes it (per batch: decode, preprocess, the frozen ResNet18 forward in libtorch,
/// the model's loss, backward, optimizer step), and Vigil's <see cref="GradientTrainer"/> (frozen features once per image
/// with ONNX Runtime and kept when there is no augmentation; then the same loss, backward and step). Both run two epochs
/// and the second is compared: a first epoch is cheaper where the optimizer has no state yet for modules without a
/// gradient (CFlow's Adam steps only the first layer's decoder until the others have had a backward, then all of them
/// at every step), so only the second shows every later epoch.
/// </summary>
public static class TrainingPerf
{
    public static void Run(TextWriter output, IReadOnlyList<ModelSpec> models, IReadOnlyList<Sample> train, FeatureExtractorOptions input)
    {
        NativeRuntime.Configure();
        output.WriteLine($"{train.Count} training images at {input.Resize}x{input.Resize}; {torch.get_num_threads()} threads; seconds per epoch");
        output.WriteLine($"{"model",-34} {"batch",5} {"plain epoch 1",13} {"plain later",11} {"Vigil epoch 1",13} {"Vigil later",11} {"Vigil later / plain later",26}");
        var onnx = new BackboneChoice(ResNet18ImageNet.Name, WeightSource.Pretrained, input);
        var torchTeacher = new BackboneChoice(ResNet18ImageNet.TorchName, WeightSource.Pretrained, input);
        foreach (var model in models)
        {
            if (model.CreateTrainer() is not IGradientTrainer trainer)
            {
                output.WriteLine($"{model.Label,-34} (not gradient-trained)");
                continue;
            }
            if (model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.Supervised))
            {
                output.WriteLine($"{model.Label,-34} (supervised: trains on labelled anomalies, which this timing does not have)");
                continue;
            }
            var straightforward = StraightforwardEpochs(trainer, torchTeacher, train);
            // Two timed epochs: a warm-up longer than that is dropped (the learning rate does not change an epoch's cost).
            var timed = (IGradientTrainer)(model with { Options = trainer.Options with { Epochs = 2, WarmupEpochs = 0, ValidationRatio = 0, Patience = null } }).CreateTrainer();
            using var fitted = (ITrainedDetector)timed.Fit(new TrainingData(train), new TrainingContext(0, onnx));
            var epochs = fitted.Training!.Epochs;
            output.WriteLine($"{model.Label,-34} {trainer.Options.BatchSize,5} {straightforward[0],13:F1} {straightforward[1],11:F1} {epochs[0].Seconds,13:F1} " +
                $"{epochs[1].Seconds,11:F1} {epochs[1].Seconds / straightforward[1],25:F2}x");
        }
    }

    /// <summary>
    /// The seconds of two epochs of the plain loop (one network and optimizer, as a training run continues): every batch
    /// decoded, preprocessed and passed through the libtorch teacher as it is drawn.
    /// </summary>
    private static double[] StraightforwardEpochs(IGradientTrainer trainer, IBackboneProvider teacher, IReadOnlyList<Sample> train)
    {
        using var detector = trainer.Create(teacher, seed: 0);
        var options = trainer.Options;
        var parameters = detector.Trained.SelectMany(m => m.Module.parameters()).Where(p => p.requires_grad).ToList();
        using var optimizer = new GradientTrainer(options).CreateOptimizer(parameters);
        foreach (var (_, module) in detector.Trained) module.train();
        var seconds = new double[2];
        for (int epoch = 0; epoch < seconds.Length; epoch++)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            SeededRandom.Shuffle(order, (ulong)epoch);
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var images = order.Skip(start).Take(options.BatchSize).Select(i => ImageOps.ToRgb(train[i].LoadImage(), train[i].SourcePath)).ToList();
                var frozen = detector.Frozen(images);
                var batch = detector.NeedsImages ? TrainingInputs.ToBatch(detector.Preprocessing, images) : null;
                using var generator = new Generator((ulong)(epoch * order.Length + start));
                detector.TrainBatch(batch, frozen, generator, loss =>
                {
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                });
            }
            seconds[epoch] = clock.Elapsed.TotalSeconds;
        }
        return seconds;
    }
}
