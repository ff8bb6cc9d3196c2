using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>Options of <see cref="Evaluation.Run"/>.</summary>
public sealed record EvaluationOptions
{
    public EvaluationResolution Resolution { get; init; } = EvaluationResolution.GroundTruth;

    /// <summary>FPR integration limit of the AU-PRO (MVTec default 0.3).</summary>
    public double ProFprLimit { get; init; } = 0.3;
}

/// <summary>
/// All metrics of one evaluation. A metric that is undefined for the data (e.g. pixel metrics when no test image has a
/// defective pixel, image AUROC without good images) is NaN and <see cref="Warnings"/> says why.
/// </summary>
public sealed record EvaluationResult(
    double ImageAuroc,
    double ImageAveragePrecision,
    F1Max ImageF1Max,
    double PixelAuroc,
    double PixelAveragePrecision,
    F1Max PixelF1Max,
    double AuPro,
    double ProFprLimit,
    EvaluationResolution Resolution,
    IReadOnlyList<string> Warnings);

/// <summary>Computes an <see cref="EvaluationResult"/> from image scores, anomaly maps and ground-truth masks.</summary>
public static class Evaluation
{
    /// <summary>
    /// Image labels are given, not derived from the masks: an anomalous image may have an empty or no mask
    /// (image-level annotations, or blank masks such as four of MTD's). Good images must have empty masks.
    /// Invalid input (count mismatch, NaN/∞ scores) throws; undefined metrics become NaN with a warning.
    /// </summary>
    public static EvaluationResult Run(IReadOnlyList<float> imageScores, IReadOnlyList<bool> labels,
        IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks, EvaluationOptions? options = null) =>
        Run(imageScores, labels, maps, masks, options, out _);

    /// <summary>As <see cref="Run(IReadOnlyList{float}, IReadOnlyList{bool}, IReadOnlyList{ScoreMap}, IReadOnlyList{BinaryMask}, EvaluationOptions?)"/>,
    /// and hands out the sorted pixels, so their curves (<see cref="PixelScores.ProCurve"/>, …) cost no second sort.</summary>
    public static EvaluationResult Run(IReadOnlyList<float> imageScores, IReadOnlyList<bool> labels,
        IReadOnlyList<ScoreMap> maps, IReadOnlyList<BinaryMask> masks, EvaluationOptions? options, out PixelScores pixels)
    {
        options ??= new EvaluationOptions();
        ArgumentNullException.ThrowIfNull(imageScores);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(masks);
        if (imageScores.Count != masks.Count || labels.Count != masks.Count)
            throw new ArgumentException($"{imageScores.Count} image scores, {labels.Count} labels and {masks.Count} masks; give one of each per test image.", nameof(imageScores));
        for (int i = 0; i < labels.Count; i++) ThrowIfNormalHasDefects(i, labels[i], masks[i]);
        return Run(imageScores, labels, () => new PixelScores(maps, masks, options.Resolution), options, out pixels);
    }

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{float}, IReadOnlyList{bool}, IReadOnlyList{ScoreMap}, IReadOnlyList{BinaryMask}, EvaluationOptions?)"/>
    /// with the pixels already collected, e.g. image by image by <see cref="PixelScoresBuilder"/> (whose caller checks
    /// each mask with <see cref="ThrowIfNormalHasDefects"/>); their resolution is the result's. The caller keeps and disposes <paramref name="pixels"/>.
    /// </summary>
    public static EvaluationResult Run(IReadOnlyList<float> imageScores, IReadOnlyList<bool> labels, PixelScores pixels, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(imageScores);
        ArgumentNullException.ThrowIfNull(labels);
        if (imageScores.Count != pixels.ImageCount || labels.Count != pixels.ImageCount)
            throw new ArgumentException($"{imageScores.Count} image scores, {labels.Count} labels and {pixels.ImageCount} anomaly maps; give one of each per test image.", nameof(imageScores));
        options = (options ?? new EvaluationOptions()) with { Resolution = pixels.Resolution };
        return Run(imageScores, labels, () => pixels, options, out _);
    }

    /// <summary>A good test image must have an empty mask.</summary>
    public static void ThrowIfNormalHasDefects(int index, bool label, BinaryMask mask)
    {
        if (!label && mask.Data.AsSpan().Contains(true))
            throw new ArgumentException($"Test image #{index} is labelled normal but its mask has defective pixels.", "labels");
    }

    private static EvaluationResult Run(IReadOnlyList<float> imageScores, IReadOnlyList<bool> labels, Func<PixelScores> collectPixels,
        EvaluationOptions options, out PixelScores pixels)
    {
        var warnings = new List<string>();
        int anomalousImages = labels.Count(l => l);
        var nanF1 = new F1Max(double.NaN, float.NaN);

        double imageAuroc = double.NaN, imageAp = double.NaN;
        F1Max imageF1 = nanF1;
        for (int i = 0; i < imageScores.Count; i++)
            if (!float.IsFinite(imageScores[i]))
                throw new VigilInputException($"Image score #{i} is {imageScores[i]}; metrics need finite scores. Check the detector output for that image.");
        if (anomalousImages == 0)
            warnings.Add("No anomalous test image: image and pixel metrics are NaN.");
        else
        {
            imageAp = ImageScores.AveragePrecision(imageScores, labels);
            imageF1 = ImageScores.F1Max(imageScores, labels);
            if (anomalousImages == labels.Count)
                warnings.Add("No good test image: image AUROC is NaN.");
            else
                imageAuroc = ImageScores.Auroc(imageScores, labels);
        }

        pixels = collectPixels(); // validates maps even when metrics are NaN
        double pixelAuroc = double.NaN, pixelAp = double.NaN, auPro = double.NaN;
        F1Max pixelF1 = nanF1;
        if (pixels.AnomalousPixels > 0)
        {
            pixelAp = pixels.AveragePrecision();
            pixelF1 = pixels.F1Max();
            if (pixels.NormalPixels == 0)
                warnings.Add("Every test pixel is defective: pixel AUROC and AU-PRO are NaN.");
            else
            {
                pixelAuroc = pixels.Auroc();
                auPro = pixels.AuPro(options.ProFprLimit);
            }
        }
        else if (anomalousImages > 0)
            warnings.Add("No mask has a defective pixel (image-level labels only): pixel metrics are NaN.");
        return new EvaluationResult(imageAuroc, imageAp, imageF1, pixelAuroc, pixelAp, pixelF1, auPro,
            options.ProFprLimit, options.Resolution, warnings);
    }
}
