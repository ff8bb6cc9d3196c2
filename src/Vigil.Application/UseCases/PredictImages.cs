using System.Text.Json;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Deployment;
using Vigil.Imaging;
using Vigil.Weights;

namespace Vigil.UseCases;

/// <summary>Score new images with a saved model and write a heat map and an overlay per image plus predictions.csv/json.</summary>
public sealed record PredictRequest
{
    public required string ModelFile { get; init; }
    public WeightSource Weights { get; init; } = WeightSource.Pretrained;

    /// <summary>Image files and folders of images (folders listed sorted).</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    public required string OutputFolder { get; init; }

    /// <summary>Heat maps and overlays are scaled down so their longer side is at most this many pixels; null = the size the image is decoded to (<see cref="ImageLimits.DecodedSize"/>).</summary>
    public int? MaxMapSide { get; init; } = DefaultMaxMapSide;

    public const int DefaultMaxMapSide = 1024;
}

/// <summary>
/// One line of predictions.csv/json; Error is set (and the rest empty) when the image could not be scored; Warning
/// when it was scored but the score says little (an image below <see cref="ImageLimits.MinSide"/> pixels on a side).
/// </summary>
public sealed record PredictionRow(string Path, float? Score, float? NormalisedScore, bool? Anomalous, string? Heatmap, string? Overlay, string? Error,
    string? Warning = null);

public sealed record PredictOutcome(IReadOnlyList<PredictionRow> Rows, bool Calibrated, string OutputFolder);

/// <summary>
/// Scores images with a model from <c>vigil train</c>: anomaly score, normalised score (0.5 = threshold) and label, and
/// per image a heat map and an overlay PNG. An unreadable image is reported in its row and skipped, the others are
/// still scored; a tiny image is scored with a warning in its row. The predictions files are written whole or not at all.
/// </summary>
public static class PredictImages
{
    public static PredictOutcome Run(PredictRequest request, IWorkDisplay display, CancellationToken cancel = default)
    {
        var files = ListImages(request.Inputs);
        OutputChecks.RequireWritableDirectory(request.OutputFolder, "the predictions");
        if (request.MaxMapSide < 16) throw new VigilInputException($"The largest map side {request.MaxMapSide} must be at least 16 pixels.");
        using var model = DeployedModel.Load(request.ModelFile, BackboneChoice.Resolver(request.Weights));
        var names = UniqueStems(files);
        var rows = display.Run($"scoring {Counted.Of(files.Count, "image")}", progress =>
        {
            var done = new List<PredictionRow>();
            for (int i = 0; i < files.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                done.Add(Score(model, files[i], Path.Combine(request.OutputFolder, names[i]), request.MaxMapSide));
                progress.Report(new WorkProgress("", i + 1, files.Count));
            }
            return done;
        });
        WriteFiles(rows, request.OutputFolder);
        return new PredictOutcome(rows, model.Calibration is not null, Path.GetFullPath(request.OutputFolder));
    }

    /// <summary>
    /// One image's row. An image that cannot be read or scored gets its error in the row and the others go on; an
    /// output that cannot be written (full disk) stops the run, as it would for every later image too.
    /// </summary>
    private static PredictionRow Score(DeployedModel model, string file, string stem, int? maxSide)
    {
        ImageTensor image;
        ScoredImage scored;
        try
        {
            image = ImageIO.ReadRgb(file);
            scored = ScoreImage.Run(model, image, maxSide);
        }
        catch (VigilInputException e)
        {
            return new PredictionRow(file, null, null, null, null, null, e.Message);
        }
        string heatmap = stem + "_heatmap.png", overlay = stem + "_overlay.png";
        WriteImage(scored.Heatmap, heatmap);
        WriteImage(scored.Overlay, overlay);
        var warning = ImageLimits.IsTiny(image.Height, image.Width) ? ImageLimits.TinyWarning(file, image.Height, image.Width) : null;
        return new PredictionRow(file, scored.Prediction.Score, scored.Decision?.NormalisedScore, scored.Decision?.IsAnomalous, heatmap, overlay, null, warning);
    }

    private static void WriteImage(ImageTensor image, string path) => FileOutput.WriteAllBytes(path, ImageIO.EncodePng(image));

    /// <summary>The image files named directly or inside the given folders, in the order given (folders sorted).</summary>
    private static List<string> ListImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input)) files.AddRange(ImageFiles.List(input));
            else if (File.Exists(input)) files.Add(input);
            else throw new VigilInputException($"'{input}' is neither an image file nor a folder; check the path.");
        }
        if (files.Count == 0) throw new VigilInputException($"No images ({string.Join(", ", ImageFiles.Extensions)}) in {string.Join(", ", inputs)}.");
        return files;
    }

    /// <summary>Output name stems: the file's stem, numbered when two inputs share one (a/x.png and b/x.png).</summary>
    private static List<string> UniqueStems(IReadOnlyList<string> files)
    {
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        return files.Select(f =>
        {
            var stem = Path.GetFileNameWithoutExtension(f);
            int n = used[stem] = used.GetValueOrDefault(stem) + 1;
            return n == 1 ? stem : $"{stem}_{n}";
        }).ToList();
    }

    private static void WriteFiles(IReadOnlyList<PredictionRow> rows, string folder)
    {
        FileOutput.WriteAllText(Path.Combine(folder, "predictions.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        FileOutput.WriteAllText(Path.Combine(folder, "predictions.csv"), CsvWriter.Format(
            ["path", "score", "normalised_score", "anomalous", "heatmap", "overlay", "error", "warning"],
            rows.Select(r => new object?[] { r.Path, r.Score, r.NormalisedScore, r.Anomalous, r.Heatmap, r.Overlay, r.Error, r.Warning })));
    }
}
