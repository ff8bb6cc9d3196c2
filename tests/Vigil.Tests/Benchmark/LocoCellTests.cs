using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Imaging;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Reporting;
using Vigil.Tests.Data;
using Vigil.Tests.Detectors;
using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Tests.Benchmark;

/// <summary>
/// MVTec LOCO in the benchmark: a cell on LOCO test images carries the official evaluation of its own maps and
/// scores, other data carries none, the tables average it by kind of anomaly, and training calibrates on LOCO's
/// validation images instead of holding back training images.
/// </summary>
public class LocoCellTests
{
    private static readonly ModelSpec Padim = DetectorRegistry.Parse("padim");

    [Fact]
    public void LocoCellCarriesTheOfficialEvaluationOfItsOwnPredictions()
    {
        using var loco = new TinyLoco();
        var split = loco.Load();
        var spec = TestSpecs.Cell(model: "padim", dataset: "loco", category: TinyLoco.Category);
        var backbone = new TestBackbone();
        var result = CellRunner.Run(spec, Padim, backbone, split, artifacts: false).Result;

        // The same fit (deterministic) predicts every test image again; the official evaluation of those predictions.
        using var detector = Padim.CreateTrainer().Fit(new TrainingData(split.Train), new TrainingContext(spec.Seed, backbone));
        var predictions = split.Test.Select(s => detector.Predict(s.LoadImage())).ToList();
        var expected = LocoDataset.Evaluate(split.Test, predictions.Select(p => p.Map).ToList(), predictions.Select(p => p.Score).ToList());

        var actual = Assert.IsType<LocoEvaluationResult>(result.Loco);
        Assert.Equal((split.TestNormalCount, split.Test.Count(s => s.DefectType == LocoDataset.LogicalType), split.Test.Count(s => s.DefectType == LocoDataset.StructuralType)),
            (actual.GoodImages, actual.LogicalImages, actual.StructuralImages));
        Assert.True(actual.LogicalImages > 0 && actual.StructuralImages > 0);
        foreach (var (e, a) in new[] { (expected.Logical, actual.Logical), (expected.Structural, actual.Structural), (expected.Mean, actual.Mean), (expected.All, actual.All) })
        {
            Assert.Equal(e.ImageAuroc, a.ImageAuroc, 12);
            Assert.Equal(SPro.LocoFprLimits, a.AucSpro.Keys.Order());
            foreach (double limit in SPro.LocoFprLimits) Assert.Equal(e.AucSpro[limit], a.AucSpro[limit], 12);
        }
        // The official mean is the average of the two kinds.
        Assert.Equal(0.5 * (actual.Logical.AucSpro[0.05] + actual.Structural.AucSpro[0.05]), actual.Mean.AucSpro[0.05], 12);
        // The cell trained on train/good only: the validation images are neither trained on nor tested.
        Assert.Equal(split.Train.Count, result.TrainCount);
        Assert.Equal(TinyLoco.ValidationCount, split.Validation.Count);
        Assert.DoesNotContain(result.Images, i => split.Validation.Any(v => v.SourcePath == i.Path));
    }

    [Fact]
    public void OtherDataHasNoLocoEvaluation()
    {
        using var data = new TinySynthetic(trainCount: 4, testGoodCount: 2, perDefectCount: 1);
        var result = CellRunner.Run(TestSpecs.Cell(model: "padim"), Padim, new TestBackbone(), data.Load(), artifacts: false).Result;
        Assert.Null(result.Loco);
        Assert.Empty(LocoTable.Build([result]));
    }

    [Fact]
    public void LocoTableAveragesSeedsThenCategoriesLeavingUndefinedKindsOut()
    {
        static LocoScores S(double auroc, double spro) => new(auroc, new Dictionary<double, double> { [0.05] = spro, [0.3] = spro / 2 });
        var nan = S(double.NaN, double.NaN);
        CellResult Cell(string category, int seed, LocoScores logical, LocoScores structural) =>
            Results.ResultSamples.Cell(Results.ResultSamples.Spec with { Category = category, Seed = seed }) with
            {
                Loco = new LocoEvaluationResult(logical, structural, Mean(logical, structural), S(0, 0), 1, 1, 1, []),
            };
        static LocoScores Mean(LocoScores a, LocoScores b) =>
            new(0.5 * (a.ImageAuroc + b.ImageAuroc), a.AucSpro.Keys.ToDictionary(l => l, l => 0.5 * (a.AucSpro[l] + b.AucSpro[l])));
        var cells = new[]
        {
            Cell("box", 0, S(0.5, 0.25), S(1.0, 0.75)),
            Cell("box", 1, S(0.7, 0.35), S(0.8, 0.65)),
            Cell("bag", 0, S(0.9, 0.5), nan), // no structural anomalies: NaN, left out of the mean over categories
            Results.ResultSamples.Cell(Results.ResultSamples.Spec with { Category = "other" }), // no LOCO evaluation: not in the table
        };

        var table = Assert.Single(LocoTable.Build(cells));
        Assert.Equal([0.05, 0.3], table.FprLimits);
        Assert.Equal(["bag", "bag", "bag", "box", "box", "box", "mean", "mean", "mean"], table.Rows.Select(r => r.Category));
        Assert.Equal(["logical", "structural", "mean"], table.Rows.Take(3).Select(r => r.Anomalies));
        var boxLogical = table.Rows[3];
        Assert.Equal((2, 0.6, 0.3, 0.15), (boxLogical.Cells, boxLogical.ImageAuroc, boxLogical.AucSpro[0], boxLogical.AucSpro[1]), new Close());
        var boxStructural = table.Rows[4];
        Assert.Equal((2, 0.9, 0.7, 0.35), (boxStructural.Cells, boxStructural.ImageAuroc, boxStructural.AucSpro[0], boxStructural.AucSpro[1]), new Close());
        Assert.True(double.IsNaN(table.Rows[1].ImageAuroc) && double.IsNaN(table.Rows[2].AucSpro[0])); // bag structural and mean
        var meanLogical = table.Rows[6];
        Assert.Equal((3, (0.9 + 0.6) / 2, (0.5 + 0.3) / 2, (0.25 + 0.15) / 2), (meanLogical.Cells, meanLogical.ImageAuroc, meanLogical.AucSpro[0], meanLogical.AucSpro[1]), new Close());
        var meanStructural = table.Rows[7]; // box only: bag's is undefined
        Assert.Equal((0.9, 0.7), (meanStructural.ImageAuroc, meanStructural.AucSpro[0]), new Close());
        Assert.Equal((0.5 * (0.6 + 0.9), 0.5 * (0.3 + 0.7)), (table.Rows[8].ImageAuroc, table.Rows[8].AucSpro[0]), new Close()); // box's mean only
    }

    [Fact]
    public void TrainingCalibratesOnLocoValidationImagesAndTrainsOnEveryTrainingImage()
    {
        SharedData.RequireDirectory("weights");
        using var loco = new TinyLoco();
        var split = loco.Load();
        var path = Path.Combine(loco.Scratch("model"), "padim.vgl");
        var outcome = TrainModel.Run(new TrainRequest
        {
            Model = DetectorRegistry.Parse("padim:dims=20"),
            Backbone = new BackboneChoice("mobilenetv2_int8_onnx", WeightSource.Pretrained),
            Dataset = $"loco:{loco.Root}",
            Category = TinyLoco.Category,
            OutputPath = path,
        }, new SilentDisplay());

        Assert.Equal(split.Train.Count, outcome.TrainCount);
        Assert.Equal(split.Validation.Count, outcome.ValidationCount);
        Assert.Contains(outcome.Notes, n => n.Contains($"dataset's {split.Validation.Count} validation images"));
        using var model = DeployedModel.Load(path, BackboneChoice.Resolver(WeightSource.Pretrained));
        Assert.Equal(split.Train.Select(s => s.SourcePath), model.Provenance!.TrainImages);
        Assert.Equal(split.Validation.Select(s => s.SourcePath), model.Provenance.ValidationImages);
        Assert.Equal(split.Validation.Count, model.Calibration!.ValidationNormal);
        // The image threshold flags at most 1 % of the validation scores: here none, so it lies above all of them.
        var validationScores = split.Validation.Select(s => model.Detector.Predict(s.LoadImage()).Score).ToList();
        Assert.True(validationScores.All(s => s < model.Calibration.ImageThreshold));
        Assert.Equal(Calibrator.FixedFprThreshold([.. validationScores], 0.01), model.Calibration.ImageThreshold);
    }

    /// <summary>Tuples of numbers equal to 12 digits.</summary>
    private sealed class Close : IEqualityComparer<(int, double, double, double)>, IEqualityComparer<(double, double)>
    {
        public bool Equals((int, double, double, double) a, (int, double, double, double) b) =>
            a.Item1 == b.Item1 && Near(a.Item2, b.Item2) && Near(a.Item3, b.Item3) && Near(a.Item4, b.Item4);

        public bool Equals((double, double) a, (double, double) b) => Near(a.Item1, b.Item1) && Near(a.Item2, b.Item2);
        public int GetHashCode((int, double, double, double) obj) => 0;
        public int GetHashCode((double, double) obj) => 0;
        private static bool Near(double a, double b) => Math.Abs(a - b) < 1e-12;
    }
}
