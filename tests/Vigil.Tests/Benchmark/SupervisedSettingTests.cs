using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Registry;
using Vigil.Settings;
using Vigil.Tests.Detectors;
using Vigil.UseCases;

namespace Vigil.Tests.Benchmark;

/// <summary>
/// The supervised setting's wiring: a benchmark cell gives the setting's labelled anomalies (with their masks) to a
/// detector that declares <see cref="DetectorCapabilities.Supervised"/>, and never to one that does not; a supervised
/// detector cannot run a setting without labelled anomalies, as a detector without FitMore cannot run the continual one
/// (a grid of nothing else is refused before any work; otherwise the pair is "not applicable": <see cref="NotApplicableTests"/>).
/// </summary>
public sealed class SupervisedSettingTests : IDisposable
{
    private readonly TinySynthetic _data = new();

    [Fact]
    public void OnlyADetectorDeclaringSupervisedReceivesTheLabelledAnomaliesWithTheirMasks()
    {
        var setting = new FullySupervised(3);
        var transformed = setting.Apply(_data.Load(), seed: 1);
        var moved = transformed.Train.Where(s => s.IsAnomalous).ToList();
        Assert.Equal(3, moved.Count);
        var normal = transformed.Train.Where(s => !s.IsAnomalous).Select(s => s.Id).ToList();

        var supervised = new ModelSpec(new RecordingModule(DetectorCapabilities.Supervised), new RecordingOptions());
        var given = Given(supervised, transformed.Split);
        Assert.Equal(normal, given.Normal.Select(s => s.Id));
        Assert.Equal(moved.Select(s => s.Id), given.Anomalies.Select(s => s.Id));
        foreach (var anomaly in given.Anomalies)
        {
            var (image, mask) = anomaly.Load();
            Assert.Contains(true, mask.Data); // the setting's masks reach the detector
            Assert.Equal((image.Height, image.Width), (mask.Height, mask.Width));
        }
        Assert.Empty(CellRunner.TrainingDataFor(supervised, transformed.Train).Notes);

        var unsupervised = new ModelSpec(new RecordingModule(DetectorCapabilities.PixelMaps), new RecordingOptions());
        var seen = Given(unsupervised, transformed.Split);
        Assert.Equal(normal, seen.Normal.Select(s => s.Id));
        Assert.Empty(seen.Anomalies);
        Assert.Contains("recording cannot use labelled anomalies", Assert.Single(CellRunner.TrainingDataFor(unsupervised, transformed.Train).Notes));
    }

    /// <summary>What a benchmark cell's fit gave the recording detector (its trainer stops the cell right after recording).</summary>
    private static TrainingData Given(ModelSpec model, DatasetSplit split)
    {
        var recorded = Assert.Throws<Recorded>(() => CellRunner.Run(TestSpecs.Cell("recording"), model, new TestBackbone(), split));
        return recorded.Given;
    }

    [Fact]
    public void ASupervisedDetectorCannotRunASettingWithoutLabelledAnomalies()
    {
        var devnet = DetectorRegistry.Parse("devnet");
        foreach (var setting in new LearningSetting[] { new Unsupervised(), new FewShot(2), new NoisyLabels(0.1) })
        {
            var error = Assert.Throws<VigilInputException>(() => BenchmarkGrid.Check(Request(devnet, setting), new SilentDisplay()));
            Assert.Contains("'devnet'", error.Message);
            Assert.Contains(setting.Spec, error.Message);
            Assert.Contains("supervised", error.Message);
            Assert.Contains(SettingSupport.WhyNot(devnet, setting)!, error.Message);
        }
        BenchmarkGrid.Check(Request(devnet, new FullySupervised(2)), new SilentDisplay());
        // Models without labels still run the supervised setting (on their normal images); only the continual setting refuses them.
        Assert.Null(SettingSupport.WhyNot(DetectorRegistry.Parse("stpm"), new FullySupervised(2)));
        Assert.NotNull(SettingSupport.WhyNotContinual(devnet));
        Assert.Null(SettingSupport.WhyNotContinual(DetectorRegistry.Parse("patchcore")));
    }

    private BenchmarkRequest Request(ModelSpec model, LearningSetting setting) => new()
    {
        Models = [model],
        Backbone = new BackboneChoice("resnet18_imagenet", Vigil.Weights.WeightSource.Pretrained),
        Datasets = [$"synthetic:{_data.Root}"],
        Settings = [setting],
        OutputDirectory = _data.Scratch("out"),
        Run = RunDescription.Library("test", "{}"),
    };

    public void Dispose() => _data.Dispose();

    private sealed record RecordingOptions : IDetectorOptions
    {
        public void Validate() { }
    }

    private sealed class Recorded(TrainingData data) : Exception("recorded")
    {
        public TrainingData Given { get; } = data;
    }

    /// <summary>A detector whose trainer only records the training data it was given (<see cref="Recorded"/>).</summary>
    private sealed class RecordingModule(DetectorCapabilities capabilities) : DetectorModule<RecordingOptions>
    {
        public override DetectorInfo Info { get; } = new("recording", "records its training data", "none (a test detector)", "https://github.com/vigil/test", capabilities);

        protected override IDetectorTrainer CreateTrainer(RecordingOptions options) => new Trainer();

        protected override IDetector Load(ModelArchiveReader archive, RecordingOptions options, BackboneResolver backbone) => throw new NotSupportedException();

        private sealed class Trainer : IDetectorTrainer
        {
            public IDetector Fit(TrainingData data, TrainingContext context) => throw new Recorded(data);
        }
    }
}
