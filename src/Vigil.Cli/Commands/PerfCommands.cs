using System.CommandLine;
using Vigil.Backbones;
using Vigil.Backbones.Onnx;
using Vigil.Cli.Perf;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.PatchCore;
using Vigil.Registry;
using Vigil.Training;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>`vigil perf`: speed and memory benchmarks of Vigil's parts on this machine (not tests: they print tables).</summary>
internal static class PerfCommands
{
    public static Command Create()
    {
        var command = new Command("perf", "Measure speed and memory of Vigil's parts on this machine and print tables.");

        var metrics = new Command("metrics", "Pixel AUROC, AP, F1-max and AU-PRO on 100 maps of 1024² and 1000 maps of 256² (needs ~6 GB).");
        metrics.SetAction(_ => CommandRunner.Run(_ => { MetricsPerf.Run(Console.Out); return 0; }));
        command.Subcommands.Add(metrics);

        var size = new Option<int>("--size") { Description = "Input size (square) the images are resized to.", DefaultValueFactory = _ => 256 };
        var backbones = new Command("backbones", "Per-image feature extraction latency of every backbone at --size² (default 256), batch 1 and 8.") { size };
        backbones.SetAction(parse => CommandRunner.Run(_ =>
        {
            int pixels = parse.GetValue(size);
            var candidates = BackbonePerf.ResNetCandidates(pixels).ToList();
            if (SharedOrCachedMobileNet() is { } onnx)
                candidates.Add(new BackbonePerf.Candidate(MobileNetV2Int8.Name, _ => MobileNetV2Int8.Open(onnx, ["layer2", "layer3"], preprocessing: Imaging.Preprocessing.ImageNet(pixels))));
            else
                Console.WriteLine($"({MobileNetV2Int8.Name} not timed: {MobileNetV2Int8.FileName} was not found in the weight cache or shared/weights.)");
            foreach (var name in new[] { ResNet18ImageNet.Name, ResNet18ImageNet.TorchName })
                candidates.Add(new BackbonePerf.Candidate(name, batch => BackboneCatalog.Open(name, WeightSource.Pretrained, ["layer2", "layer3"],
                    options: new FeatureExtractorOptions { Resize = pixels, BatchSize = batch })));
            BackbonePerf.Run(Console.Out, candidates, pixels);
            return 0;
        }));
        command.Subcommands.Add(backbones);

        var source = new PerfSource("mtd");
        var trainCount = new Option<int>("--train") { Description = "Training images used (0 = all).", DefaultValueFactory = _ => 0 };
        var testCount = new Option<int>("--test") { Description = "Test images timed (0 = all).", DefaultValueFactory = _ => 50 };
        var compare = new Option<bool>("--compare-reference")
        {
            Description = "Compare PatchCore, PaDiM and SPADE (or --models) with straightforward libtorch versions side by side; prints a markdown table.",
        };
        var compared = new Option<string?>("--models", "-m") { Description = "With --compare-reference: models, comma-separated, e.g. patchcore:coreset=0.01,padim,spade." };
        var detectors = new Command("detectors", "Fit time, predict latency (median, p95), memory and fitted-state size of every registered model with default options.")
        {
            trainCount, testCount, compare, compared,
        };
        source.AddTo(detectors);
        detectors.SetAction(parse => CommandRunner.Run(_ =>
        {
            var split = source.Split(parse);
            var (train, test) = (Take(split.Train, parse.GetValue(trainCount)), Take(split.Test, parse.GetValue(testCount)));
            if (parse.GetValue(compare))
                ReferenceComparePerf.Run(Console.Out, SpecLists.Models([parse.GetValue(compared) ?? string.Join(",", ReferenceComparePerf.DefaultModels)])
                    .Select(DetectorRegistry.Parse).ToList(), source.Backbone(parse), train, test);
            else
                DetectorPerf.Run(Console.Out, source.Backbone(parse), train, test);
            return 0;
        }));
        command.Subcommands.Add(detectors);
        command.Subcommands.Add(Training());
        command.Subcommands.Add(Coreset());
        command.Subcommands.Add(Knn());
        return command;
    }

    private static Command Training()
    {
        var source = new PerfSource("mtd");
        var trainCount = new Option<int>("--train") { Description = "Training images per epoch (0 = all).", DefaultValueFactory = _ => 64 };
        var models = new Option<string>("--models", "-m")
        {
            Description = "Gradient-trained models, comma-separated (default: every registered one), e.g. stpm,rd4ad:batch=8.",
        };
        var size = new Option<int>("--size") { Description = "Input size (square) the images are resized to.", DefaultValueFactory = _ => 256 };
        var training = new Command("training", "One training epoch of each gradient-trained model: a straightforward libtorch loop vs Vigil's training loop on the same networks.")
        {
            trainCount, models, size,
        };
        source.AddTo(training);
        training.SetAction(parse => CommandRunner.Run(_ =>
        {
            var split = source.Split(parse);
            var specs = parse.GetValue(models) is { } text ? SpecLists.Models([text]).Select(DetectorRegistry.Parse).ToList()
                : DetectorRegistry.All.Select(m => new ModelSpec(m, m.Schema.Defaults)).Where(m => m.Options is GradientTrainingOptions).ToList();
            TrainingPerf.Run(Console.Out, specs, Take(split.Train.Where(s => !s.IsAnomalous).ToList(), parse.GetValue(trainCount)),
                new FeatureExtractorOptions { Resize = parse.GetValue(size) });
            return 0;
        }));
        return training;
    }

    private static Command Coreset()
    {
        var source = new PerfSource("ksdd");
        var trainCount = new Option<int>("--train") { Description = "Training images whose patches are selected from (0 = all).", DefaultValueFactory = _ => 0 };
        var ratio = new Option<double>("--ratio") { Description = "Coreset ratio.", DefaultValueFactory = _ => 0.1 };
        var baselineSteps = new Option<int>("--baseline-steps") { Description = "Steps of the straightforward loop timed before extrapolating.", DefaultValueFactory = _ => 1000 };
        var coreset = new Command("coreset", "PatchCore's greedy coreset on real patch features: Vigil's exact pruned selection vs the straightforward libtorch loop.")
        {
            trainCount, ratio, baselineSteps,
        };
        source.AddTo(coreset);
        coreset.SetAction(parse => CommandRunner.Run(_ =>
        {
            var split = source.Split(parse);
            using var detector = new PatchCoreDetector(source.Backbone(parse).Open(new PatchCoreOptions().Layers));
            using var features = detector.PatchFeatures(Take(split.Train, parse.GetValue(trainCount)));
            CoresetPerf.Run(Console.Out, features, parse.GetValue(ratio), parse.GetValue(baselineSteps));
            return 0;
        }));
        return coreset;
    }

    private static Command Knn()
    {
        var source = new PerfSource("ksdd");
        var trainCount = new Option<int>("--train") { Description = "Training images in the memory bank (0 = all).", DefaultValueFactory = _ => 0 };
        var testCount = new Option<int>("--test") { Description = "Test images timed (0 = all).", DefaultValueFactory = _ => 20 };
        var knn = new Command("knn", "PatchCore predict broken down, and its nearest-neighbour step: straightforward libtorch cdist vs Vigil's brute force, exact index and approximate inverted file (recall, image AUROC).")
        {
            trainCount, testCount,
        };
        source.AddTo(knn);
        knn.SetAction(parse => CommandRunner.Run(_ =>
        {
            var split = source.Split(parse);
            KnnPerf.Run(Console.Out, source.Backbone(parse), Take(split.Train, parse.GetValue(trainCount)), Take(split.Test, parse.GetValue(testCount)));
            return 0;
        }));
        return knn;
    }

    private static IReadOnlyList<Sample> Take(IReadOnlyList<Sample> samples, int count) =>
        count > 0 && count < samples.Count ? samples.Take(count).ToList() : samples;

    private static string? SharedOrCachedMobileNet()
    {
        try { return BackboneCatalog.DefaultStore().Resolve(BackboneCatalog.MobileNetV2Int8Weights); }
        catch (VigilInputException) { return null; }
    }

    /// <summary>--data, --category and the backbone options of the perf commands that run on a real split.</summary>
    private sealed class PerfSource(string defaultData)
    {
        private readonly Option<string> _data = new("--data", "-d") { Description = "Dataset spec.", DefaultValueFactory = _ => defaultData };
        private readonly Option<string?> _category = new("--category", "-c") { Description = "Category (default: the dataset's first)." };
        private readonly BackboneOptions _backbone = new(BackboneOptions.DefaultBackbone);

        public void AddTo(Command command)
        {
            command.Options.Add(_data);
            command.Options.Add(_category);
            _backbone.AddTo(command);
        }

        public DatasetSplit Split(ParseResult parse)
        {
            var dataset = DatasetCatalog.Open(parse.GetValue(_data)!);
            return dataset.Load(parse.GetValue(_category) ?? dataset.Categories[0]);
        }

        public BackboneChoice Backbone(ParseResult parse) => _backbone.Read(parse);
    }
}
