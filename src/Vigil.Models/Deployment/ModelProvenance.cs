namespace Vigil.Deployment;

/// <summary>
/// Where a saved model's state came from, so `vigil test` can evaluate on the same data without re-stating it and
/// refuse test images the model was trained or calibrated on.
/// </summary>
/// <param name="Dataset">The dataset spec it was trained on (as given to --data, e.g. "mtd" or "mvtec:/data/mvtec").</param>
/// <param name="TrainImages">Paths of the images the state was fitted on.</param>
/// <param name="ValidationImages">Paths of the images the calibration used.</param>
/// <param name="Setting">The learning setting's spec (e.g. "noisy:ratio=0.15"), applied again with <paramref name="Seed"/> to rebuild the test split.</param>
/// <param name="Configuration">The training command's full resolved configuration (JSON): every option, given or default.</param>
/// <param name="FitSeconds">How long fitting took, reported again by `vigil test`.</param>
public sealed record ModelProvenance(
    string Dataset,
    string Category,
    double TrainRatio,
    int SplitSeed,
    string Setting,
    long Seed,
    IReadOnlyList<string> TrainImages,
    IReadOnlyList<string> ValidationImages,
    string VigilVersion,
    string? GitCommit,
    DateTime CreatedUtc,
    double FitSeconds,
    string Configuration);
