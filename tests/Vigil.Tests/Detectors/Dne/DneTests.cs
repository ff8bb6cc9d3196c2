using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Detectors;
using Vigil.Detectors.Dne;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.Tests.Data;
using Vigil.Weights;

namespace Vigil.Tests.Detectors.Dne;

/// <summary>
/// DNE on two clearly different synthetic categories (nut, then wood) with the ImageNet ResNet18 at 224×224: the task
/// scoring identifies each test image's category, one task scores the same whichever Gaussian is chosen, a continual
/// run through <see cref="ContinualRunner"/> keeps the first category after learning the second, and the map is the
/// image score.
/// </summary>
public class DneTests(DneTests.TwoCategories data) : IClassFixture<DneTests.TwoCategories>
{
    private static readonly string[] Categories = ["nut", "wood"];
    private static readonly IBackboneProvider Backbone =
        new BackboneChoice("resnet18_imagenet", WeightSource.Pretrained, new FeatureExtractorOptions { Resize = 224 });

    public sealed class TwoCategories : IDisposable
    {
        private readonly TempTree _temp = new();

        public TwoCategories()
        {
            var options = new SyntheticOptions { ImageSize = 224, TrainGoodCount = 20, TestGoodCount = 6, TestDefectCount = 2, Seed = 11, Categories = Categories };
            var dataset = new MvtecLayoutDataset(SyntheticDataset.Generate(_temp.Path("synthetic"), options), SyntheticDataset.Name);
            Tasks = Categories.Select(c => (c, dataset.Load(c))).ToList();
        }

        public IReadOnlyList<(string Task, DatasetSplit Split)> Tasks { get; }

        public void Dispose() => _temp.Dispose();
    }

    private IDetector FitTaskByTask(string model)
    {
        var trainer = (IContinualTrainer)DetectorRegistry.Parse(model).CreateTrainer();
        IDetector? detector = null;
        foreach (var (_, split) in data.Tasks) detector = trainer.FitMore(detector, new TrainingData(split.Train), new TrainingContext(0, Backbone));
        return detector!;
    }

    [Fact]
    public void TaskScoringIdentifiesTheCategoryOfEveryTestImage()
    {
        using var detector = (DneDetector)FitTaskByTask("dne:scoring=task");
        Assert.Equal(2, detector.TaskCount);
        for (int task = 0; task < data.Tasks.Count; task++)
        {
            var images = data.Tasks[task].Split.Test.Select(s => s.LoadImage()).ToList();
            Assert.All(detector.IdentifyTasks(images), identified => Assert.Equal(task, identified));
        }
    }

    [Fact]
    public void WithOneTaskEveryScoringUsesThatTasksGaussian()
    {
        // Replay over one task refits the Ledoit–Wolf Gaussian on the same (re-normalised) embeddings; the task scoring
        // has one task to choose: all three give the current task's Mahalanobis distance.
        var (_, split) = data.Tasks[0];
        var scores = new[] { "replay", "current", "task" }.Select(scoring =>
        {
            using var detector = DetectorRegistry.Parse($"dne:scoring={scoring}").CreateTrainer().Fit(new TrainingData(split.Train), new TrainingContext(0, Backbone));
            return split.Test.Select(s => detector.Predict(s.LoadImage()).Score).ToArray();
        }).ToList();
        for (int i = 0; i < scores[0].Length; i++)
        {
            Assert.Equal(scores[1][i], scores[0][i], 1e-3f * scores[1][i]);
            Assert.Equal(scores[1][i], scores[2][i], 1e-5f * scores[1][i]);
        }
    }

    [Fact]
    public void ReplayForgetsTheFirstCategoryLessThanTheLastTasksGaussianAlone()
    {
        var matrices = new[] { "replay", "current" }.Select(scoring =>
        {
            var spec = TestSpecs.Cell(model: "dne", category: string.Join("+", Categories), setting: "continual", backbone: "resnet18_imagenet", weights: "pretrained");
            var result = ContinualRunner.Run(spec, DetectorRegistry.Parse($"dne:scoring={scoring}"), Backbone, data.Tasks);
            Assert.NotNull(result.ImageAuroc.Forgetting);
            return result.ImageAuroc.Matrix;
        }).ToList();
        var (replay, current) = (matrices[0], matrices[1]);
        Assert.Equal(replay[0][0], current[0][0]); // one task: the same Gaussian
        // After the second task, replay (the reference's DNE) still ranks the first category's images well, while the
        // second task's Gaussian alone forgets it (measured: 1.0 vs 0.69; forgetting 0 vs 0.31).
        Assert.InRange(replay[1][0], 0.9, 1);
        Assert.True(current[1][0] < replay[1][0] - 0.1, $"replay {replay[1][0]}, current {current[1][0]}");
    }

    [Fact]
    public void ItsMapIsTheImageScoreAtEveryPixel()
    {
        using var detector = FitTaskByTask("dne");
        var prediction = detector.Predict(data.Tasks[0].Split.Test[^1].LoadImage());
        Assert.All(prediction.Map.Data, value => Assert.Equal(prediction.Score, value, 1e-6f * prediction.Score)); // up to the upsampling's rounding
    }
}
