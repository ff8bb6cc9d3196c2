using Vigil.Detectors;
using Vigil.Settings;

namespace Vigil.Benchmark;

/// <summary>
/// Which learning settings a model can run, from the capabilities its registration declares: a continual setting needs
/// <see cref="DetectorCapabilities.Continual"/> (<see cref="IContinualTrainer.FitMore"/>); a
/// <see cref="DetectorCapabilities.Supervised"/> model learns from labelled anomalies, so it runs only in the setting
/// that gives them (<see cref="FullySupervised"/>). A model is never run in a setting it cannot run: a grid records the
/// pair as "not applicable" (<see cref="Records.CellResult.NotApplicableCell"/>), and refuses before any work when
/// nothing in it can run. Models without labels run in every other setting (in the supervised one on its normal
/// images, with a note: <see cref="CellRunner.TrainingDataFor"/>).
/// </summary>
public static class SettingSupport
{
    /// <summary>Why <paramref name="model"/> cannot run <paramref name="setting"/>, or null when it can.</summary>
    public static string? WhyNot(ModelSpec model, LearningSetting setting) =>
        model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.Supervised) && setting is not FullySupervised
            ? $"not applicable: '{model.Label}' learns from labelled anomalies and the {setting.Spec} setting gives none (run it with -s supervised[:n=N])"
            : null;

    /// <summary>Why <paramref name="model"/> cannot run the continual setting, or null when it can.</summary>
    public static string? WhyNotContinual(ModelSpec model) =>
        model.Module.Info.Capabilities.HasFlag(DetectorCapabilities.Continual) ? null
            : $"not applicable: '{model.Label}' cannot learn task after task, so it cannot run the continual setting";
}
