using System.Text.Json.Nodes;
using Vigil.Detectors;
using Vigil.Detectors.Options;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Spade;
using Vigil.Registry;

namespace Vigil.Tests.Detectors;

/// <summary>Model specs (-m name[:key=value,…]), variants, labels and option schemas.</summary>
public class DetectorRegistryTests
{
    [Fact]
    public void VariantsAreOptionPresetsOfTheirModelAndLabelAsTheVariant()
    {
        var softPatch = DetectorRegistry.Parse("PatchCore-SoftPatch");
        var options = Assert.IsType<PatchCoreOptions>(softPatch.Options);
        Assert.Equal("patchcore", softPatch.Name);
        Assert.Equal((PatchOutlierMethod?)PatchOutlierMethod.Lof, options.Denoising);
        Assert.Equal((0.15, 6, true), (options.DenoisingDiscardRatio, options.DenoisingNeighbours, options.SoftWeighting));
        Assert.Null(options.ReweightingNeighbours);
        Assert.Equal("patchcore-softpatch", softPatch.Label);
        // The same options written out are the same model, with the same label.
        Assert.Equal("patchcore-softpatch", DetectorRegistry.Parse("patchcore:denoising=lof").Label);

        var reweighted = DetectorRegistry.Parse("patchcore-reweighted");
        Assert.Equal(9, ((PatchCoreOptions)reweighted.Options).ReweightingNeighbours);
        Assert.Equal("patchcore-reweighted", reweighted.Label);

        // Options after a variant win over the variant's; then the label lists what differs from the defaults.
        var tuned = DetectorRegistry.Parse("patchcore-softpatch:discard=0.1,coreset=0.01");
        Assert.Equal((0.1, 0.01), (((PatchCoreOptions)tuned.Options).DenoisingDiscardRatio, ((PatchCoreOptions)tuned.Options).CoresetRatio));
        Assert.Equal("patchcore:coreset=0.01,denoising=lof,discard=0.1", tuned.Label);
        Assert.Equal("patchcore", DetectorRegistry.Parse("patchcore:coreset=0.1").Label); // a default given explicitly
    }

    [Fact]
    public void ExactlyTheModelsThatTrainByGradientDescentDeclareIt()
    {
        // The queue routes cells by this flag (trained models to their own workers) and `vigil models` prints it.
        foreach (var module in DetectorRegistry.All)
        {
            var trainer = DetectorRegistry.Parse(module.Info.Name).CreateTrainer();
            // RegAD's trainer runs its own gradient loop over registration episodes of other categories.
            bool gradient = trainer.GetType().IsGenericType && trainer.GetType().GetGenericTypeDefinition() == typeof(Vigil.Detectors.Trained.TrainedDetectorTrainer<>)
                || trainer is Vigil.Detectors.RegAd.RegAdTrainer;
            Assert.True(gradient == module.Info.Capabilities.HasFlag(DetectorCapabilities.GradientTrained),
                $"{module.Info.Name}: trainer {trainer.GetType().Name}, capabilities {module.Info.Capabilities}");
        }
    }

    [Fact]
    public void OptionsOfEveryKindParseAndRoundTrip()
    {
        var spec = DetectorRegistry.Parse("patchcore:layers=layer1+layer3,coreset=0.25,reweighting=3,denoising=KNN,soft_weighting=false,bank_cap=500,bank_cap_strategy=coreset");
        var o = (PatchCoreOptions)spec.Options;
        Assert.Equal(["layer1", "layer3"], o.Layers);
        Assert.Equal((0.25, 3, (PatchOutlierMethod?)PatchOutlierMethod.Knn, false, 500, BankCapStrategy.Coreset),
            (o.CoresetRatio, o.ReweightingNeighbours, o.Denoising, o.SoftWeighting, o.BankCap, o.BankCapStrategy));
        Assert.Null(((PatchCoreOptions)DetectorRegistry.Parse("patchcore-reweighted:reweighting=none").Options).ReweightingNeighbours);

        var schema = spec.Module.Schema;
        var back = schema.FromJson("patchcore", JsonNode.Parse(spec.OptionsJson.ToJsonString())!.AsObject());
        Assert.Equal(schema.Values(spec.Options), schema.Values(back));
        Assert.Equal(o with { Layers = [] }, ((PatchCoreOptions)back) with { Layers = [] });
        Assert.Equal(o.Layers, ((PatchCoreOptions)back).Layers);
    }

    [Fact]
    public void UnknownNamesKeysAndBadValuesAreInputErrorsSayingWhatIsAllowed()
    {
        var model = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchkore"));
        Assert.Contains("patchcore, patchcore-reweighted, patchcore-softpatch, padim", model.Message);
        var key = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("padim:dimensions=50"));
        Assert.Contains("no option 'dimensions'", key.Message);
        Assert.Contains("dims", key.Message);
        var number = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchcore:coreset=ten"));
        Assert.Contains("coreset='ten' is not a number", number.Message);
        var choice = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchcore:denoising=median"));
        Assert.Contains("one of lof|knn|gaussian", choice.Message);
        var range = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchcore:coreset=1.5"));
        Assert.Contains("(0, 1]", range.Message);
        var pair = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchcore:coreset"));
        Assert.Contains("key=value", pair.Message);
        var twice = Assert.Throws<VigilInputException>(() => DetectorRegistry.Parse("patchcore:coreset=0.1,coreset=0.2"));
        Assert.Contains("given twice", twice.Message);
    }

    [Fact]
    public void EveryBuiltInRegistrationIsCompleteAndItsDefaultsAreValid()
    {
        foreach (var module in DetectorRegistry.BuiltIn)
        {
            var info = module.Info;
            Assert.Matches("^[a-z0-9_]+$", info.Name);
            Assert.StartsWith("https://github.com/", info.OfficialCode);
            Assert.False(string.IsNullOrWhiteSpace(info.Paper));
            // Every detector maps anomalies, except image-level methods: supervised DevNet and DRA, whose maps are coarse
            // upsampled score maps, and DNE and CutPaste, one embedding per image, whose map is the image score everywhere.
            Assert.True(info.Capabilities.HasFlag(DetectorCapabilities.PixelMaps) || info.Capabilities.HasFlag(DetectorCapabilities.Supervised)
                || info.Name is "dne" or "cutpaste", info.Name);
            Assert.NotEmpty(module.Schema.Options);
            Assert.All(module.Schema.Options, o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{info.Name}.{o.Key}"));
            module.Schema.Defaults.Validate();
            Assert.Same(module, DetectorRegistry.Get(info.Name.ToUpperInvariant()));
        }
        Assert.Equal(["layer1", "layer2", "layer3", "layer4"], new SpadeOptions().Layers);
        Assert.IsType<PadimOptions>(DetectorRegistry.Parse("padim").Options);
    }

    [Fact]
    public void NamesMustBeNewAndWellFormed()
    {
        Assert.Throws<ArgumentException>(() => DetectorRegistry.Register(new PatchCoreModule()));
    }
}
