using Vigil.Imaging;
using Vigil.Settings;

namespace Vigil.Tests.Settings;

public class ParseTests
{
    public static TheoryData<string, LearningSetting, string> Specs => new()
    {
        { "unsupervised", new Unsupervised(), "unsupervised" },
        { "Vanilla", new Unsupervised(), "unsupervised" },
        { "supervised", new FullySupervised(10), "supervised-10" },
        { "supervised:n=5", new FullySupervised(5), "supervised-5" },
        { "fewshot", new FewShot(8), "fewshot-8" },
        { "fewshot:k=2", new FewShot(2), "fewshot-2" },
        { "fewshot:k=8,m=4", new FewShot(8, 4, AugmentationKinds.Rotation), "fewshot-8x4-rotation" },
        { "few-shot: k = 1 , m = 2 , aug = flip+color_jitter+rotation", new FewShot(1, 2, AugmentationKinds.Rotation | AugmentationKinds.Flip | AugmentationKinds.ColorJitter), "fewshot-1x2-rotation+flip+color" },
        { "noisy", new NoisyLabels(0.1), "noisy-0.1" },
        { "noisy:ratio=0.15", new NoisyLabels(0.15), "noisy-0.15" },
        { "NOISY:ratio=0.05,overlap", new NoisyLabels(0.05, true), "noisy-0.05-overlap" },
        { "noisy:overlap=false,ratio=0.2", new NoisyLabels(0.2), "noisy-0.2" },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void ParsesSpecsAndTheCanonicalSpecRoundTrips(string spec, LearningSetting expected, string name)
    {
        var setting = LearningSettings.Parse(spec);
        Assert.Equal(expected, setting);
        Assert.Equal(name, setting.Name);
        Assert.Equal(setting, LearningSettings.Parse(setting.Spec));
        Assert.Equal(setting.Spec, setting.ToString());
    }

    [Theory]
    [InlineData("", "name is missing")]
    [InlineData("bogus", "'bogus' is not a setting")]
    [InlineData("continual", "sequence of categories")]
    [InlineData("unsupervised:n=3", "'unsupervised' takes no parameter 'n'")]
    [InlineData("supervised:k=3", "'supervised' takes no parameter 'k'")]
    [InlineData("supervised:n=0", "at least 1")]
    [InlineData("supervised:n=ten", "n='ten' is not a whole number")]
    [InlineData("supervised:n", "'n' needs a value")]
    [InlineData("fewshot:k=0", "k=0 is invalid")]
    [InlineData("fewshot:k=8,m=65", "m=65 is invalid")]
    [InlineData("fewshot:k=8,aug=rotation", "needs m ≥ 1")]
    [InlineData("fewshot:k=8,m=2,aug=spin", "augmentation 'spin' is unknown")]
    [InlineData("noisy:ratio=0", "must be in (0, 1]")]
    [InlineData("noisy:ratio=1.5", "must be in (0, 1]")]
    [InlineData("noisy:ratio=0,15", "takes no parameter '15' (parameters are separated by commas: write decimals with a dot")]
    [InlineData("noisy:ratio=abc", "not a number")]
    [InlineData("noisy:ratio=0.1,ratio=0.2", "'ratio' is given twice")]
    [InlineData("noisy:overlap=maybe", "must be true or false")]
    public void BadSpecsSayWhatIsWrongAndListTheValidForms(string spec, string problem)
    {
        var e = Assert.Throws<VigilInputException>(() => LearningSettings.Parse(spec));
        Assert.Contains($"Setting '{spec}'", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains("Valid settings:", e.Message);
        Assert.Contains("noisy[:ratio=R][,overlap]", e.Message);
    }

    [Fact]
    public void TableXiiiPresetsAreVanillaNoisyAndFewShot()
    {
        Assert.Equal(["unsupervised", "noisy-0.15", "fewshot-8"], LearningSettings.ImIadTableXiii.Select(s => s.Name));
    }
}
