using Vigil.Data;
using Vigil.Records;

namespace Vigil.UseCases;

/// <summary>
/// results.csv: one row per cell with every metric and cost, for spreadsheets and scripts; a "not applicable" cell has NaN
/// metrics and times and its reason in the last column (empty for cells that ran).
/// </summary>
public static class ResultsCsv
{
    public static readonly IReadOnlyList<string> Header =
    [
        "model", "dataset", "category", "setting", "seed", "backbone", "random_weights", "train", "test", "image_auroc", "image_ap",
        "image_f1_max", "pixel_auroc", "pixel_ap", "pixel_f1_max", "au_pro", "pro_fpr_limit", "resolution", "fit_s", "latency_median_ms",
        "latency_p95_ms", "throughput_images_per_s", "throughput_batch", "peak_working_set_bytes", "state_bytes", "model_file_bytes",
        "spec_hash", "not_applicable",
    ];

    public static void Write(IReadOnlyList<CellResult> results, string path) =>
        FileOutput.WriteAllText(path, CsvWriter.Format(Header, results.Select(r =>
        {
            var (m, e) = (r.Metrics, r.Efficiency);
            return new object?[]
            {
                r.Key.Model, r.Key.Dataset, r.Key.Category, r.Key.Setting, r.Key.Seed, r.Backbone, r.RandomWeights, r.TrainCount, r.TestCount,
                m.ImageAuroc, m.ImageAveragePrecision, m.ImageF1Max.F1, m.PixelAuroc, m.PixelAveragePrecision, m.PixelF1Max.F1,
                m.AuPro, m.ProFprLimit, m.Resolution, e.FitSeconds, e.LatencyMedianMs, e.LatencyP95Ms, e.ThroughputImagesPerSecond,
                e.ThroughputBatchSize, e.PeakWorkingSetBytes, e.StateBytes, e.ModelFileBytes, r.Spec.Hash, r.NotApplicable,
            };
        })));
}
