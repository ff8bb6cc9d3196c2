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
/// with ONNX Runtime and kept when there is no augmentation; then the same loss, backward and step). Vigil's first epoch
/// includes computing the cached features; its second shows every later epoch.
/// </summary>
public static class TrainingPerf
{
    public static void Run(TextWriter output, IReadOnlyList<ModelSpec> models, IReadOnlyList<Sample> train, FeatureExtractorOptions input)
    {
        output.WriteLine($"{train.Count} training images at {input.Resize}x{input.Resize}; {torch.get_num_threads()} threads; seconds per epoch");
        output.WriteLine($"{"model",-34} {"batch",5} {"straightforward",15} {"Vigil epoch 1",13} {"Vigil later",11} {"Vigil later / straightforward",30}");
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
            double straightforward = StraightforwardEpoch(trainer, torchTeacher, train);
            // Two timed epochs: a warm-up longer than that is dropped (the learning rate does not change an epoch's cost).
            var timed = (IGradientTrainer)(model with { Options = trainer.Options with { Epochs = 2, WarmupEpochs = 0, ValidationRatio = 0, Patience = null } }).CreateTrainer();
            using var fitted = (ITrainedDetector)timed.Fit(new TrainingData(train), new TrainingContext(0, onnx));
            var epochs = fitted.Training!.Epochs;
            output.WriteLine($"{model.Label,-34} {trainer.Options.BatchSize,5} {straightforward,15:F1} {epochs[0].Seconds,13:F1} {epochs[1].Seconds,11:F1} {epochs[1].Seconds / straightforward,29:F2}x");
        }
    }

    /// <summary>One epoch of the plain loop: every batch decoded, preprocessed and passed through the libtorch teacher as it is drawn.</summary>
    private static double StraightforwardEpoch(IGradientTrainer trainer, IBackboneProvider teacher, IReadOnlyList<Sample> train)
    {
        using var detector = trainer.Create(teacher, seed: 0);
        var options = trainer.Options;
        var parameters = detector.Trained.SelectMany(m => m.Module.parameters()).Where(p => p.requires_grad).ToList();
        using var optimizer = new GradientTrainer(options).CreateOptimizer(parameters);
        foreach (var (_, module) in detector.Trained) module.train();
        var order = Enumerable.Range(0, train.Count).ToArray();
        SeededRandom.Shuffle(order, 0);
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < order.Length; start += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            var images = order.Skip(start).Take(options.BatchSize).Select(i => ImageOps.ToRgb(train[i].LoadImage(), train[i].SourcePath)).ToList();
            var frozen = detector.Frozen(images);
            var batch = detector.NeedsImages ? TrainingInputs.ToBatch(detector.Preprocessing, images) : null;
            using var generator = new Generator((ulong)start);
            detector.TrainBatch(batch, frozen, generator, loss =>
            {
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            });
        }
        return clock.Elapsed.TotalSeconds;
    }
}
