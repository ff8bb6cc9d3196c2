using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Vigil.Calibration;
using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Cli.Commands;

/// <summary>
/// `vigil predict`: scores new images with a saved model and writes, per image, a heat map and an overlay PNG, plus
/// predictions.csv and predictions.json (score, normalised score, label). An unreadable image is reported and skipped;
/// the others are still scored.
/// </summary>
internal static class PredictCommand
{
    /// <summary>One line of predictions.csv/json; Error is set (and the rest empty) when the image could not be scored.</summary>
    public sealed record Row(string Path, float? Score, float? NormalisedScore, bool? Anomalous, string? Heatmap, string? Overlay, string? Error);

    public static Command Create()
    {
        var modelFile = new ModelFileOptions();
        var inputs = new Argument<string[]>("images") { Description = "Image files and/or folders of images.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the maps and the predictions files.", DefaultValueFactory = _ => "vigil-predictions" };
        var command = new Command("predict",
            "Score new images with a model from 'vigil train': anomaly score, normalised score (0.5 = threshold), label, and an " +
            "anomaly-map heat map and overlay per image. Example: vigil predict -f mtd.vgl line-camera/*.png")
        {
            inputs, output,
        };
        modelFile.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var files = ListImages(parse.GetValue(inputs)!);
            using var detector = modelFile.Load(parse);
            var calibration = detector.Calibration;
            if (calibration is null)
                AnsiConsole.MarkupLine("[yellow]The model has no calibrated threshold: scores only, no labels; maps are scaled per image.[/]");
            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var names = UniqueStems(files);
            var rows = Progress.Run($"scoring {files.Count} images", progress =>
            {
                var done = new List<Row>();
                for (int i = 0; i < files.Count; i++)
                {
                    done.Add(Score(detector.Predict, calibration, files[i], Path.Combine(folder, names[i])));
                    progress.Report((i + 1, files.Count));
                }
                return done;
            });
            WriteFiles(rows, folder);

            int failed = rows.Count(r => r.Error != null), anomalous = rows.Count(r => r.Anomalous == true);
            AnsiConsole.MarkupLineInterpolated($"{rows.Count - failed} images scored{(calibration is null ? "" : $", {anomalous} anomalous")}; maps and predictions.csv/json in [bold]{Path.GetFullPath(folder)}[/].");
            foreach (var r in rows.Where(r => r.Error != null)) Console.Error.WriteLine($"error: {r.Error}");
            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    private static Row Score(Func<ImageTensor, Detectors.Prediction> predict, ScoreCalibration? calibration, string file, string stem)
    {
        try
        {
            var image = ImageIO.ReadRgb(file);
            var prediction = predict(image);
            var (low, high) = calibration is null ? (prediction.Map.Data.Min(), prediction.Map.Data.Max()) : (calibration.PixelMin, calibration.PixelMax);
            string heatmap = stem + "_heatmap.png", overlay = stem + "_overlay.png";
            ImageIO.Write(Heatmap.Colourise(prediction.Map, low, high), heatmap);
            // With a threshold, outline the pixels the model calls defective (the ground truth is unknown here).
            ImageIO.Write(Heatmap.Overlay(image, prediction.Map, low, high, calibration?.Segment(prediction.Map)), overlay);
            var decided = calibration?.Apply(prediction);
            return new Row(file, prediction.Score, decided?.NormalisedScore, decided?.IsAnomalous, heatmap, overlay, null);
        }
        catch (VigilInputException e)
        {
            return new Row(file, null, null, null, null, null, e.Message);
        }
    }

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

    private static void WriteFiles(IReadOnlyList<Row> rows, string folder)
    {
        File.WriteAllText(Path.Combine(folder, "predictions.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        var csv = new StringBuilder("path,score,normalised_score,anomalous,heatmap,overlay,error\n");
        foreach (var r in rows)
            csv.AppendLine(string.Join(",", new object?[] { r.Path, r.Score, r.NormalisedScore, r.Anomalous, r.Heatmap, r.Overlay, r.Error }
                .Select(v => Csv(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""))));
        File.WriteAllText(Path.Combine(folder, "predictions.csv"), csv.ToString());
    }

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}
