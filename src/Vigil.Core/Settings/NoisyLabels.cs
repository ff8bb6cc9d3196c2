using System.Globalization;
using Vigil.Data;

namespace Vigil.Settings;

/// <summary>
/// IM-IAD's noisy-label setting: a seeded draw of anomalous test images is injected into training labelled normal (the
/// label noise); they keep their defect type, so <c>Label == Normal</c> with a defect type other than "good" marks them,
/// and <see cref="SettingNotes.Chosen"/> lists them. Count: ⌊ratio × training-set size⌋ (the size before injection,
/// truncated as IM-IAD does, with a 1e-9 tolerance so e.g. 0.29 × 100 gives 29), at most ⌊0.75 × the category's
/// anomalous test images⌋. Injected images leave the test set unless <paramref name="Overlap"/> keeps them there.
/// </summary>
/// <param name="Ratio">Injected images as a fraction of the training-set size, in (0, 1]; IM-IAD uses 0.05–0.2.</param>
/// <param name="Overlap">Keep the injected images in the test set too (IM-IAD's noisy_overlap).</param>
public sealed record NoisyLabels(double Ratio = NoisyLabels.DefaultRatio, bool Overlap = false) : LearningSetting
{
    public const double DefaultRatio = 0.1;

    public double Ratio { get; } = Ratio > 0 && Ratio <= 1 ? Ratio
        : throw new VigilInputException($"Noisy setting: ratio={Ratio.ToString(CultureInfo.InvariantCulture)} is out of range; it is the number of injected anomalous images as a fraction of the training-set size and must be in (0, 1] (IM-IAD uses 0.05–0.2).");

    private string RatioText => Ratio.ToString(CultureInfo.InvariantCulture);
    public override string Name => $"noisy-{RatioText}" + (Overlap ? "-overlap" : "");
    public override string Spec => $"noisy:ratio={RatioText}" + (Overlap ? ",overlap" : "");

    public override SettingSplit Apply(DatasetSplit split, int seed)
    {
        var anomalies = split.Test.Where(s => s.IsAnomalous).ToList();
        int requested = (int)Math.Floor(Ratio * split.Train.Count + 1e-9);
        int cap = SeededDraw.AnomalyCap(anomalies.Count);
        int count = Math.Min(requested, cap);
        var drawn = SeededDraw.Take(anomalies, count, seed);
        var injected = drawn.Select(s => s with { Label = SampleLabel.Normal, Mask = null });
        var result = split with
        {
            Train = [.. split.Train, .. injected],
            Test = Overlap ? split.Test : SeededDraw.Without(split.Test, drawn),
        };
        string summary = $"Injected {Counted.Of(count, "anomalous test image")} into training labelled normal (⌊{RatioText} × {split.Train.Count} training images⌋ = {requested}"
            + (requested > cap ? $", capped at ⌊0.75 × {anomalies.Count}⌋ = {cap}" : "") + ")"
            + (count > 0 ? $": {SeededDraw.Ids(drawn)}." : ".")
            + (Overlap ? " They stay in the test set too (overlap)." : " They are no longer tested.");
        return new SettingSplit(result, new SettingNotes(Name, seed, summary, drawn.Select(s => s.Id).ToList(), requested > cap,
            result.Train.Count, result.Test.Count));
    }
}
