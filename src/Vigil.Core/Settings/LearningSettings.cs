using System.Globalization;
using Vigil.Imaging;

namespace Vigil.Settings;

/// <summary>Parses setting specs (the CLI's <c>--setting</c>) and lists the IM-IAD presets.</summary>
public static class LearningSettings
{
    /// <summary>IM-IAD's upper_ratio: settings take at most this fraction of a category's anomalous test images.</summary>
    public const double AnomalyCapFraction = 0.75;

    public static Unsupervised Default { get; } = new();

    /// <summary>The settings of IM-IAD's Table XIII comparison: vanilla, noisy labels at 0.15, few-shot with 8 images.</summary>
    public static IReadOnlyList<LearningSetting> ImIadTableXiii { get; } = [Default, new NoisyLabels(0.15), new FewShot(8)];

    /// <summary>The accepted spec forms with their parameter ranges, for help texts and error messages.</summary>
    public static string Forms { get; } = string.Join(Environment.NewLine,
        "  unsupervised                       train on normal images only (default; alias: vanilla)",
        $"  supervised[:n=N]                   move N anomalous test images (default {FullySupervised.DefaultCount}, N >= 1) into training with labels and masks, at most 75 % of a category's anomalies",
        $"  fewshot[:k=K][,m=M][,aug=A+B]      keep K normal training images (default {FewShot.DefaultShots}, K >= 1; IM-IAD uses 1, 2, 4, 8), each with M augmented variants (0-{FewShot.MaxVariants}, default 0) by A+B from {string.Join(", ", AugmentationSchedule.Names.Select(n => n.Name))} (default rotation)",
        $"  noisy[:ratio=R][,overlap]          inject floor(R x training images) anomalous test images into training as normal (default R {NoisyLabels.DefaultRatio.ToString(CultureInfo.InvariantCulture)}, 0 < R <= 1; IM-IAD uses 0.05-0.2), at most 75 % of a category's anomalies; overlap keeps them in the test set",
        ContinualSetting.Form);

    /// <summary>
    /// A setting from its spec, e.g. "unsupervised", "supervised:n=10", "fewshot:k=8,m=4,aug=rotation+flip",
    /// "noisy:ratio=0.15,overlap". Names and keys are case-insensitive. A bad spec is a <see cref="VigilInputException"/>
    /// that lists the valid forms.
    /// </summary>
    public static LearningSetting Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':');
        string name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var parameters = ParseParameters(spec, colon < 0 ? "" : spec[(colon + 1)..]);
        // All parameters are read (and unknown ones rejected) before the constructor checks their ranges.
        Func<LearningSetting> create;
        switch (name)
        {
            case "unsupervised" or "vanilla":
                create = () => Default;
                break;
            case "supervised" or "fully-supervised":
                int n = Int(spec, parameters, "n", FullySupervised.DefaultCount);
                create = () => new FullySupervised(n);
                break;
            case "fewshot" or "few-shot":
                int k = Int(spec, parameters, "k", FewShot.DefaultShots), m = Int(spec, parameters, "m", 0);
                // Rotation when variants are asked for without kinds: IM-IAD found it the most useful.
                var kinds = Kinds(spec, parameters) ?? (m > 0 ? AugmentationKinds.Rotation : AugmentationKinds.None);
                create = () => new FewShot(k, m, kinds);
                break;
            case "noisy":
                double ratio = Ratio(spec, parameters);
                bool overlap = Flag(spec, parameters, "overlap");
                create = () => new NoisyLabels(ratio, overlap);
                break;
            case "continual":
                throw Bad(spec, "continual learning trains over a sequence of categories, so it is not a transformation of one split and is not selected here");
            case "":
                throw Bad(spec, "the setting name is missing");
            default:
                throw Bad(spec, $"'{name}' is not a setting");
        }
        if (parameters.Count > 0)
            throw Bad(spec, $"'{name}' takes no parameter{(parameters.Count > 1 ? "s" : "")} {string.Join(", ", parameters.Keys.Select(key => $"'{key}'"))}"
                + (parameters.Keys.Any(key => key.All(char.IsAsciiDigit)) ? " (parameters are separated by commas: write decimals with a dot, e.g. 0.15)" : ""));
        try { return create(); }
        catch (VigilInputException e) { throw Bad(spec, e.Message); }
    }

    /// <summary>key=value pairs and bare flags (value null), keys lower-cased; a repeated key is an error.</summary>
    private static Dictionary<string, string?> ParseParameters(string spec, string text)
    {
        var result = new Dictionary<string, string?>();
        if (text.Trim().Length == 0) return result;
        foreach (var part in text.Split(','))
        {
            int eq = part.IndexOf('=');
            string key = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            if (key.Length == 0) throw Bad(spec, $"parameter '{part.Trim()}' has no name");
            if (!result.TryAdd(key, eq < 0 ? null : part[(eq + 1)..].Trim()))
                throw Bad(spec, $"parameter '{key}' is given twice");
        }
        return result;
    }

    // Each reader removes the parameter it consumes, so whatever is left afterwards is unknown to the setting.
    private static string? Take(string spec, Dictionary<string, string?> parameters, string key, bool flag = false)
    {
        if (!parameters.Remove(key, out var value)) return null;
        if (value is null && !flag) throw Bad(spec, $"parameter '{key}' needs a value, e.g. {key}=...");
        return value ?? "true";
    }

    private static int Int(string spec, Dictionary<string, string?> parameters, string key, int fallback)
    {
        var text = Take(spec, parameters, key);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
            : throw Bad(spec, $"{key}='{text}' is not a whole number");
    }

    private static double Ratio(string spec, Dictionary<string, string?> parameters)
    {
        var text = Take(spec, parameters, "ratio");
        if (text is null) return NoisyLabels.DefaultRatio;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value
            : throw Bad(spec, $"ratio='{text}' is not a number (use a dot for decimals, e.g. 0.15)");
    }

    private static bool Flag(string spec, Dictionary<string, string?> parameters, string key) =>
        Take(spec, parameters, key, flag: true)?.ToLowerInvariant() switch
        {
            null or "false" => false,
            "true" => true,
            var other => throw Bad(spec, $"{key}='{other}' must be true or false (or just '{key}')"),
        };

    private static AugmentationKinds? Kinds(string spec, Dictionary<string, string?> parameters)
    {
        var text = Take(spec, parameters, "aug");
        if (text is null) return null;
        var kinds = AugmentationKinds.None;
        foreach (var name in text.Split('+'))
            kinds |= AugmentationSchedule.ParseKind(name)
                ?? throw Bad(spec, $"augmentation '{name.Trim()}' is unknown; use {string.Join(", ", AugmentationSchedule.Names.Select(n => n.Name))} joined with '+'");
        return kinds;
    }

    private static VigilInputException Bad(string spec, string problem) =>
        new($"Setting '{spec}': {problem.TrimEnd('.')}. Valid settings:{Environment.NewLine}{Forms}");
}
