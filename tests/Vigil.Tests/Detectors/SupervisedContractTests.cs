using Vigil.Detectors;
using Vigil.Metrics;
using Vigil.Registry;
using Vigil.Training;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for the supervised detectors, which learn from labelled anomalies that
/// <see cref="DetectorContractTests"/> does not give: on synthetic textures with a few labelled anomalies and their masks
/// (<see cref="LabelledTextures"/>), every built-in supervised detector ranks the held-out defective images above the
/// normal ones (and its map the defects' pixels above the rest where it makes pixel maps), gives the same predictions
/// after save and load and after a second fit with the same seed, refuses training data without labelled anomalies
/// naming the supervised setting, refuses bad input clearly and stops when cancelled.
/// </summary>
public sealed class SupervisedContractTests(LabelledTextures data) : IClassFixture<LabelledTextures>
{
    public static TheoryData<string> Models => new(DetectorRegistry.BuiltIn.Where(m => m.Info.Capabilities.HasFlag(DetectorCapabilities.Supervised))
        .Select(m => Quick.GetValueOrDefault(m.Info.Name, m.Info.Name)));

    /// <summary>Options that keep the tests fast (same algorithm, tiny schedules on frozen features at 128 × 128).</summary>
    public static readonly IReadOnlyDictionary<string, string> Quick = new Dictionary<string, string>
    {
        // 6 epochs of 5 balanced batches of 8 on frozen features, the official two scales.
        ["devnet"] = "devnet:finetune=false,epochs=6,steps=5,batch=8,augment=none,lr=0.01",
        // The same schedule; pseudo anomalies' features are computed per step.
        ["dra"] = "dra:finetune=false,epochs=6,steps=5,batch=8,augment=none,lr=0.01",
        // 4 epochs (the first on normal images only) of batches of 4, fibre batches of 256.
        ["bgad"] = "bgad:epochs=4,batch=4,warmup=1,cosine_every=1,normal_epochs=1,fiber_batch=256",
    };

    private static TrainingContext Context(long seed = 0) => new(seed, LabelledTextures.Backbone);

    [Theory]
    [MemberData(nameof(Models))]
    public void RanksDefectiveImagesAboveNormalOnesFromAFewLabelledAnomalies(string model)
    {
        var spec = DetectorRegistry.Parse(model);
        using var detector = spec.CreateTrainer().Fit(data.Supervised, Context());
        var predictions = data.Test.Select(s => (Sample: s, Prediction: detector.Predict(s.LoadImage()))).ToList();
        double auroc = Auroc.MannWhitney(predictions.Select(p => (p.Prediction.Score, p.Sample.IsAnomalous)).ToList());
        Assert.True(auroc > 0.9, $"{model}: image AUROC {auroc:F3} on the held-out textures");
        if (spec.Module.Info.Capabilities.HasFlag(DetectorCapabilities.PixelMaps))
        {
            var pixels = predictions.Where(p => p.Sample.IsAnomalous).SelectMany(p =>
            {
                var mask = p.Sample.Load().Mask;
                return p.Prediction.Map.Data.Select((v, i) => (v, mask.Data[i]));
            }).ToList();
            double pixelAuroc = Auroc.MannWhitney(pixels);
            Assert.True(pixelAuroc > 0.9, $"{model}: pixel AUROC {pixelAuroc:F3} on the held-out defects");
        }
        var training = ((Vigil.Detectors.Trained.ITrainedDetector)detector).Training!;
        Assert.Equal(data.Train.Count + data.Labelled.Count, training.TrainImages);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SavedAndLoadedModelPredictsTheSameAndASecondFitRepeatsIt(string model)
    {
        var spec = DetectorRegistry.Parse(model);
        using var first = spec.CreateTrainer().Fit(data.Supervised, Context(seed: 4));
        using var second = spec.CreateTrainer().Fit(data.Supervised, Context(seed: 4));
        var path = Path.Combine(Path.GetTempPath(), $"vigil-supervised-{Guid.NewGuid():N}.vgl");
        try
        {
            first.Save(path);
            using var loaded = DetectorTesting.Load(path, reference => LabelledTextures.Backbone.Open(reference.Layers));
            foreach (var sample in data.Test.Take(3).Concat(data.Test.TakeLast(3)))
            {
                var image = sample.LoadImage();
                var expected = first.Predict(image);
                Assert.Equal(expected.Score, second.Predict(image).Score);
                Assert.Equal(expected.Map.Data, second.Predict(image).Map.Data);
                Assert.Equal(expected.Score, loaded.Predict(image).Score, 1e-5f * Math.Max(1f, Math.Abs(expected.Score)));
                Assert.Equal((image.Height, image.Width), (expected.Map.Height, expected.Map.Width));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void RefusesTrainingWithoutLabelledAnomaliesNamingTheSupervisedSetting(string model)
    {
        var spec = DetectorRegistry.Parse(model);
        var error = Assert.Throws<VigilInputException>(() => spec.CreateTrainer().Fit(new TrainingData(data.Train), Context()));
        Assert.Contains(spec.Name, error.Message);
        Assert.Contains("-s supervised", error.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BadInputIsAClearError(string model)
    {
        using var detector = DetectorRegistry.Parse(model).CreateTrainer().Fit(data.Supervised, Context());
        DetectorContractTests.Check.PredictRefusesBadChannels(detector, data.Test[0].LoadImage());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void CancellationStopsTheFit(string model) => DetectorContractTests.Check.StopsWhenCancelled(DetectorRegistry.Parse(model), data.Supervised);
}
