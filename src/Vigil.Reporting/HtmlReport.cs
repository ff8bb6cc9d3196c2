using System.Globalization;
using System.Net;
using System.Text;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Results;

namespace Vigil.Reporting;

/// <summary>
/// A benchmark run as one HTML page with its PNGs beside it (a folder that can be copied or zipped as it is):
/// metric tables per (model, dataset, setting) with a row per category and their mean; image ROC and PR curves
/// (from the cells' per-image scores) and pixel ROC and PRO curves (from the cells' artifacts); the accuracy-vs-
/// latency bubble plot per (dataset, setting); the overlays of the most telling test images. Every text from the
/// data (model, category, file names) is HTML-escaped. A cell without artifacts gets a visible note.
/// </summary>
public static class HtmlReport
{
    public const string FileName = "report.html";

    /// <summary>The page's attribute on &lt;body&gt; that its script sets, once loaded, to how many of its images failed to load.</summary>
    public const string BrokenImagesAttribute = "data-broken-images";

    private const string PlotFolder = "plots", OverlayFolder = "overlays";

    /// <summary>Where a report is written before it replaces the previous one, inside the output folder (same file system, so moving is renaming).</summary>
    private const string StagingFolder = ".report.partial";

    /// <summary>
    /// Writes the report of every cell and continual run in <paramref name="store"/> (the latest result of each
    /// specification) into <paramref name="outputDirectory"/> (created; its plots/ and overlays/ are replaced) and
    /// returns the path of the page. The report is written whole or not at all: on a full disk or an unwritable folder
    /// the previous report stays as it was and the error names the folder.
    /// </summary>
    public static string Write(string outputDirectory, IResultsStore store, string title = "Vigil benchmark report")
    {
        ArgumentNullException.ThrowIfNull(store);
        var stored = store.LatestCells();
        var continual = store.LatestContinual();
        if (stored.Count == 0 && continual.Count == 0)
            throw new VigilInputException($"No finished cells in {store.Location}; run 'vigil bench' first.");
        var cells = stored.Select(c => c.Result).ToList();
        var cellIds = stored.ToDictionary(c => c.Result, c => c.CellId, (IEqualityComparer<CellResult>)ReferenceEqualityComparer.Instance);
        var directory = Path.GetFullPath(outputDirectory);
        var staging = Path.Combine(directory, StagingFolder);
        try
        {
            Directory.CreateDirectory(directory);
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            var html = new Page(staging, store, cellIds);
            WritePage(html, cells, continual, title);
            File.WriteAllText(Path.Combine(staging, FileName), html.ToString());
            return Publish(staging, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { } // the next report clears it
            throw new VigilInputException(
                $"Could not write the report to '{directory}': {e.Message} Free disk space or choose a writable folder; the previous report there, if any, is unchanged.", e);
        }
    }

    /// <summary>
    /// Moves the finished page and its folders over the previous ones. Only renames, which need no disk space: a full
    /// disk or an unwritable folder stops the report before this, leaving the previous one whole.
    /// </summary>
    private static string Publish(string staging, string directory)
    {
        foreach (var folder in new[] { PlotFolder, OverlayFolder })
        {
            var target = Path.Combine(directory, folder);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            var staged = Path.Combine(staging, folder);
            if (Directory.Exists(staged)) Directory.Move(staged, target);
        }
        var page = Path.Combine(directory, FileName);
        File.Move(Path.Combine(staging, FileName), page, overwrite: true);
        Directory.Delete(staging);
        return page;
    }

    private static void WritePage(Page html, IReadOnlyList<CellResult> cells, IReadOnlyList<ContinualResult> continual, string title)
    {
        html.Raw($"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title>\n<style>{Style}</style></head>\n");
        html.Raw($"<body {BrokenImagesAttribute}=\"pending\">\n<h1>{E(title)}</h1>\n");
        html.Raw("<p id=\"broken-images\" class=\"note\" hidden></p>\n");
        var notApplicable = cells.Where(c => c.NotApplicable is not null).ToList();
        cells = [.. cells.Where(c => c.NotApplicable is null)];
        html.Raw($"<p>{Counted.Of(cells.Count, "cell")}; models {E(string.Join(", ", cells.Select(c => c.Key.Model).Distinct()))}; " +
                 $"datasets {E(string.Join(", ", cells.Select(c => c.Key.Dataset).Distinct()))}.</p>\n");
        WriteNotApplicable(html, notApplicable);

        var tables = MetricTable.Build(cells);
        var locoTables = LocoTable.Build(cells);
        if (tables.Count > 0) WriteBubbles(html, tables);
        foreach (var run in continual) WriteContinual(html, run);
        for (int t = 0; t < tables.Count; t++)
        {
            var table = tables[t];
            var groupCells = cells.Where(c => MetricTable.Group(c, cells) == (table.Model, table.Dataset, table.Setting))
                .OrderBy(c => c.Key.Category, StringComparer.Ordinal).ThenBy(c => c.Key.Seed).ToList();
            html.Raw($"<section>\n<h2>{E(table.Model)} on {E(table.Dataset)} ({E(table.Setting)})</h2>\n");
            WriteTable(html, table);
            if (locoTables.FirstOrDefault(l => (l.Model, l.Dataset, l.Setting) == (table.Model, table.Dataset, table.Setting)) is { } loco)
                WriteLocoTable(html, loco);
            WriteWarnings(html, groupCells);
            WriteTestedModels(html, groupCells);
            WriteCurves(html, $"t{t + 1}", groupCells);
            WriteTraining(html, $"t{t + 1}", groupCells);
            foreach (var cell in groupCells) WriteOverlays(html, cell);
            html.Raw("</section>\n");
        }
        html.Raw($"<script>{BrokenImageScript}</script>\n</body></html>\n");
    }

    /// <summary>The model × setting pairs a grid did not run because the model cannot (<see cref="CellResult.NotApplicable"/>).</summary>
    private static void WriteNotApplicable(Page html, IReadOnlyList<CellResult> cells)
    {
        if (cells.Count == 0) return;
        html.Raw("<section>\n<h2>Not applicable</h2>\n<table>\n<thead><tr><th>model</th><th>dataset</th><th>category</th><th>setting</th><th>seed</th><th>why</th></tr></thead>\n<tbody>\n");
        foreach (var c in cells.OrderBy(c => c.Key.Model, StringComparer.Ordinal).ThenBy(c => c.Key.Dataset, StringComparer.Ordinal)
                     .ThenBy(c => c.Key.Setting, StringComparer.Ordinal).ThenBy(c => c.Key.Category, StringComparer.Ordinal))
            html.Raw($"<tr><td>{E(c.Key.Model)}</td><td>{E(c.Key.Dataset)}</td><td>{E(c.Key.Category)}</td><td>{E(c.Key.Setting)}</td><td>{c.Key.Seed}</td><td>{E(c.NotApplicable!)}</td></tr>\n");
        html.Raw("</tbody></table>\n</section>\n");
    }

    /// <summary>A continual run: per metric the task × task matrix (row k = after learning task k), final average and forgetting.</summary>
    private static void WriteContinual(Page html, ContinualResult run)
    {
        html.Raw($"<section>\n<h2>{E(run.Model)}: continual over {E(string.Join(" → ", run.Tasks))}</h2>\n" +
                 "<p>Row = after learning that task, column = task tested; forgetting = mean drop from each task's best earlier score to its final one.</p>\n");
        foreach (var metric in new[] { run.ImageAuroc, run.PixelAuroc, run.AuPro })
        {
            html.Raw($"<table>\n<thead><tr><th>{E(metric.Name)}: after \\ on</th>{string.Concat(run.Tasks.Select(t => $"<th>{E(t)}</th>"))}</tr></thead>\n<tbody>\n");
            for (int k = 0; k < run.Tasks.Count; k++)
                html.Raw($"<tr><td>{E(run.Tasks[k])}</td>{string.Concat(metric.Matrix[k].Select((v, j) => $"<td>{(j > k ? "" : double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture))}</td>"))}</tr>\n");
            var forgetting = metric.Forgetting is { } f ? f.Mean.ToString("F3", CultureInfo.InvariantCulture) : "n/a";
            html.Raw($"</tbody></table>\n<p class=\"small\">final average {(double.IsNaN(metric.FinalAverage) ? "n/a" : metric.FinalAverage.ToString("F3", CultureInfo.InvariantCulture))}; forgetting measure {forgetting}</p>\n");
        }
        html.Raw("</section>\n");
    }

    private static void WriteBubbles(Page html, IReadOnlyList<MetricTable> tables)
    {
        var groups = tables.GroupBy(t => (t.Dataset, t.Setting)).ToList();
        html.Raw("<section>\n<h2>Accuracy, latency and memory</h2>\n" +
                 "<p>One bubble per model: x = median latency per image, y = mean image AUROC over the categories, " +
                 "bubble area proportional to the peak memory (mean over the categories' cells).</p>\n<div class=\"plots\">\n");
        for (int g = 0; g < groups.Count; g++)
        {
            var (dataset, setting) = groups[g].Key;
            var bubbles = groups[g].Where(t => !double.IsNaN(t.Mean.ImageAuroc))
                .Select(t => new ModelBubble(t.Model, t.Mean.LatencyMedianMs, t.Mean.ImageAuroc, t.Mean.PeakMiB)).ToList();
            var undefined = groups[g].Where(t => double.IsNaN(t.Mean.ImageAuroc)).Select(t => t.Model).ToList();
            if (bubbles.Count > 0)
            {
                var file = $"{PlotFolder}/bubbles-{g + 1}.png";
                ReportPlots.Bubbles(html.PathOf(file), $"{dataset} ({setting})", bubbles);
                html.Image(file, $"Image AUROC vs latency and memory on {dataset} ({setting})");
            }
            if (undefined.Count > 0)
                html.Note($"{dataset} ({setting}): no image AUROC (no good or no anomalous test image) for {string.Join(", ", undefined)}; not plotted.");
        }
        html.Raw("</div>\n</section>\n");
    }

    private static void WriteTable(Page html, MetricTable table)
    {
        html.Raw("<table>\n<thead><tr><th>category</th><th>cells</th><th>image AUROC</th><th>image AP</th><th>image F1-max</th>" +
                 "<th>pixel AUROC</th><th>AU-PRO</th><th>fit s</th><th>latency p50 ms</th><th>latency p95 ms</th><th>peak MiB</th></tr></thead>\n<tbody>\n");
        bool partial = false;
        foreach (var row in table.Categories.Append(table.Mean))
        {
            bool mean = ReferenceEquals(row, table.Mean);
            string Cell(string metric, double value, string format)
            {
                bool flagged = row.Partial.Contains(metric);
                partial |= flagged;
                return $"<td>{(double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture))}{(flagged ? "*" : "")}</td>";
            }
            html.Raw($"<tr{(mean ? " class=\"mean\"" : "")}><td>{E(row.Label)}</td><td>{row.Cells}</td>" +
                     Cell(nameof(MetricRow.ImageAuroc), row.ImageAuroc, "F3") +
                     Cell(nameof(MetricRow.ImageAveragePrecision), row.ImageAveragePrecision, "F3") +
                     Cell(nameof(MetricRow.ImageF1Max), row.ImageF1Max, "F3") +
                     Cell(nameof(MetricRow.PixelAuroc), row.PixelAuroc, "F3") +
                     Cell(nameof(MetricRow.AuPro), row.AuPro, "F3") +
                     Cell(nameof(MetricRow.FitSeconds), row.FitSeconds, "F1") +
                     Cell(nameof(MetricRow.LatencyMedianMs), row.LatencyMedianMs, "F1") +
                     Cell(nameof(MetricRow.LatencyP95Ms), row.LatencyP95Ms, "F1") +
                     Cell(nameof(MetricRow.PeakMiB), row.PeakMiB, "F0") + "</tr>\n");
        }
        html.Raw("</tbody></table>\n");
        if (partial) html.Raw("<p class=\"small\">* mean over the cells where the metric is defined (n/a: undefined for the data, e.g. no defective pixel).</p>\n");
    }

    /// <summary>The official MVTec LOCO evaluation: per category and kind of anomaly, image AUROC and AUC-sPRO up to each FPR limit.</summary>
    private static void WriteLocoTable(Page html, LocoTable table)
    {
        html.Raw("<p>MVTec LOCO evaluation (official protocol): each kind of anomaly with all good test images; mean = the average of logical " +
                 "and structural, the number LOCO tables quote. AUC-sPRO is normalised by its FPR limit.</p>\n");
        html.Raw("<table class=\"loco\">\n<thead><tr><th>category</th><th>anomalies</th><th>cells</th><th>image AUROC</th>" +
                 string.Concat(table.FprLimits.Select(l => $"<th>sPRO@{l.ToString(CultureInfo.InvariantCulture)}</th>")) + "</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
            html.Raw($"<tr{(row.Anomalies == "mean" ? " class=\"mean\"" : "")}><td>{E(row.Category)}</td><td>{E(row.Anomalies)}</td><td>{row.Cells}</td>" +
                     $"<td>{F3(row.ImageAuroc)}</td>{string.Concat(row.AucSpro.Select(v => $"<td>{F3(v)}</td>"))}</tr>\n");
        html.Raw("</tbody></table>\n");
    }

    private static void WriteWarnings(Page html, IReadOnlyList<CellResult> cells)
    {
        foreach (var c in cells.Where(c => c.RandomWeights))
            html.Note($"{c.Key}: backbone {c.Backbone} has RANDOM weights; not a pretrained result.");
        foreach (var c in cells)
            foreach (var w in c.Metrics.Warnings.Concat(c.Loco?.Warnings ?? [])) html.Note($"{c.Key}: {w}");
    }

    /// <summary>Cells of `vigil test`: which model file, its threshold and how its decisions did on the test images.</summary>
    private static void WriteTestedModels(Page html, IReadOnlyList<CellResult> cells)
    {
        foreach (var c in cells.Where(c => c.TestedModel is not null))
        {
            var t = c.TestedModel!;
            var decisions = t.Confusion is { } k
                ? $"at the calibrated threshold ({t.ThresholdRule}: score ≥ {t.Threshold!.Value.ToString("G5", CultureInfo.InvariantCulture)}): " +
                  $"{k.TruePositives} true positives, {k.FalseNegatives} false negatives, {k.FalsePositives} false positives, {k.TrueNegatives} true negatives " +
                  $"(precision {F3(k.Precision)}, recall {F3(k.Recall)}, false-positive rate {F3(k.FalsePositiveRate)})"
                : "no calibrated threshold, so no decisions to judge";
            html.Raw($"<p class=\"small\">{E(c.Key.ToString())}: evaluation of model file {E(t.ModelFile)}; {E(decisions)}.</p>\n");
        }
    }

    private static string F3(double value) => double.IsNaN(value) ? "n/a" : value.ToString("F3", CultureInfo.InvariantCulture);

    private static void WriteCurves(Page html, string stem, IReadOnlyList<CellResult> cells)
    {
        var roc = new List<(string, Curve)>();
        var pr = new List<(string, Curve)>();
        var pixelRoc = new List<(string, Curve)>();
        var pro = new List<(string, Curve)>();
        double proLimit = double.NaN;
        bool severalSeeds = cells.Select(c => c.Key.Seed).Distinct().Count() > 1;
        foreach (var cell in cells)
        {
            string label = severalSeeds ? $"{cell.Key.Category} s{cell.Key.Seed}" : cell.Key.Category;
            var scores = cell.Images.Select(i => i.Score).ToArray();
            var labels = cell.Images.Select(i => i.Anomalous).ToArray();
            if (labels.Contains(true) && labels.Contains(false))
            {
                roc.Add((label, ImageScores.RocCurve(scores, labels)));
                pr.Add((label, StepwisePrecisionRecall(ImageScores.PrecisionRecallCurve(scores, labels))));
            }
            var artifacts = cell.Artifacts;
            if (artifacts?.PixelRoc != null) pixelRoc.Add((label, artifacts.PixelRoc));
            if (artifacts?.Pro != null)
            {
                pro.Add((label, artifacts.Pro));
                proLimit = double.IsNaN(proLimit) ? artifacts.ProFprLimit : Math.Max(proLimit, artifacts.ProFprLimit);
            }
        }
        html.Raw("<div class=\"plots\">\n");
        Plot(html, $"{stem}-image-roc", "image ROC", "false positive rate", "true positive rate", roc, 1, chance: true);
        Plot(html, $"{stem}-image-pr", "image precision-recall (step-wise, as AP)", "recall", "precision", pr, 1, chance: false);
        Plot(html, $"{stem}-pixel-roc", "pixel ROC", "false positive rate", "true positive rate", pixelRoc, 1, chance: true);
        Plot(html, $"{stem}-pro", "PRO (pixel)", "false positive rate", "per-region overlap", pro, double.IsNaN(proLimit) ? 0.3 : proLimit, chance: false);
        html.Raw("</div>\n");
    }

    /// <summary>For gradient-trained models: the loss curves and, per cell, how long it trained and which epoch it kept.</summary>
    private static void WriteTraining(Page html, string stem, IReadOnlyList<CellResult> cells)
    {
        var trained = cells.Where(c => c.Training is { Epochs.Count: > 0 }).ToList();
        if (trained.Count == 0) return;
        bool severalSeeds = trained.Select(c => c.Key.Seed).Distinct().Count() > 1;
        string Label(CellResult c) => severalSeeds ? $"{c.Key.Category} s{c.Key.Seed}" : c.Key.Category;
        var file = $"{PlotFolder}/{stem}-losses.png";
        ReportPlots.Losses(html.PathOf(file), "training and validation loss", trained.Select(c => (Label(c), c.Training!)).ToList());
        html.Image(file, "loss curves");
        foreach (var cell in trained)
        {
            var log = cell.Training!;
            html.Raw($"<p class=\"small\">{E(Label(cell))}: {log.Epochs.Count} of {Counted.Of(log.PlannedEpochs, "epoch")} ({E(log.StopReason)}), " +
                $"weights of epoch {log.KeptEpoch} kept; {log.Seconds.ToString("F0", CultureInfo.InvariantCulture)} s on {log.TrainImages} training and " +
                $"{Counted.Of(log.ValidationImages, "validation image")}{(log.FrozenFeaturesCached ? ", frozen features computed once" : "")}.</p>\n");
        }
    }

    private static void Plot(Page html, string stem, string title, string xLabel, string yLabel,
        IReadOnlyList<(string, Curve)> curves, double xMax, bool chance)
    {
        if (curves.Count == 0)
        {
            html.Note($"No {title} curve: no cell here has the data for it (pixel curves come from cell artifacts).");
            return;
        }
        var file = $"{PlotFolder}/{stem}.png";
        ReportPlots.Curves(html.PathOf(file), title, xLabel, yLabel, curves, xMax, chance);
        html.Image(file, $"{title} curves");
    }

    /// <summary>The PR points as the step function AP integrates: precision P_k on recall (R_{k−1}, R_k], from R_0 = 0.</summary>
    internal static Curve StepwisePrecisionRecall(Curve pr)
    {
        var x = new List<double>();
        var y = new List<double>();
        double previousRecall = 0;
        for (int k = 0; k < pr.X.Count; k++)
        {
            x.Add(previousRecall); y.Add(pr.Y[k]);
            x.Add(pr.X[k]); y.Add(pr.Y[k]);
            previousRecall = pr.X[k];
        }
        return new Curve(x, y);
    }

    private static void WriteOverlays(Page html, CellResult cell)
    {
        html.Raw($"<h3>{E(cell.Key.ToString())}</h3>\n");
        var artifacts = cell.Artifacts;
        if (artifacts == null)
        {
            html.Note("No artifacts (overlays, pixel curves) for this cell: it was run without them. Rerun the cell to get them.");
            return;
        }
        if (artifacts.Overlays.Count == 0)
        {
            html.Note("No overlays: the cell's artifacts name no test image.");
            return;
        }
        html.Raw($"<p class=\"small\">Left: test image; right: anomaly map (jet, blue = {artifacts.MapMin.ToString("G4", CultureInfo.InvariantCulture)}, " +
                 $"red = {artifacts.MapMax.ToString("G4", CultureInfo.InvariantCulture)}, one range for the cell) over it. White outline: ground truth.</p>\n<div class=\"overlays\">\n");
        foreach (var overlay in artifacts.Overlays)
        {
            var file = $"{OverlayFolder}/{html.CellFolder(cell)}/{Path.GetFileName(overlay.File)}";
            string caption = $"{RoleName(overlay.Role)} #{overlay.Rank}: {overlay.DefectType}, score {overlay.Score.ToString("G5", CultureInfo.InvariantCulture)}";
            var content = html.Artifact(cell, overlay.File);
            if (content == null)
            {
                html.Note($"{caption}: overlay {overlay.File} is missing from the results store.");
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(html.PathOf(file))!);
            File.WriteAllBytes(html.PathOf(file), content);
            html.Raw($"<figure><img src=\"{E(file)}\" alt=\"{E(caption)}\" title=\"{E(overlay.SourcePath)}\">" +
                     $"<figcaption>{E(caption)}<br><span class=\"small\">{E(ShortName(overlay.SourcePath))}</span></figcaption></figure>\n");
        }
        html.Raw("</div>\n");
    }

    /// <summary>The image's folder and file name (e.g. crack/000.png): file names alone repeat across defect types.</summary>
    private static string ShortName(string path) =>
        Path.Combine(Path.GetFileName(Path.GetDirectoryName(path)) ?? "", Path.GetFileName(path));

    private static string RoleName(OverlayRole role) => role switch
    {
        OverlayRole.TopAnomaly => "top-scored anomaly",
        OverlayRole.MissedAnomaly => "lowest-scored anomaly",
        _ => "highest-scored good image",
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The page being written, where its files go, and the store its cells' artifact files come from.</summary>
    private sealed class Page(string directory, IResultsStore store, IReadOnlyDictionary<CellResult, long> cellIds)
    {
        private readonly StringBuilder _html = new();
        private readonly Dictionary<CellResult, string> _cellFolders = new(ReferenceEqualityComparer.Instance);

        public string PathOf(string relative) => Path.Combine(directory, relative);

        public byte[]? Artifact(CellResult cell, string name) => store.ReadArtifact(cellIds[cell], name);

        /// <summary>A folder name per cell that needs no escaping: category names come from folder names.</summary>
        public string CellFolder(CellResult cell)
        {
            if (!_cellFolders.TryGetValue(cell, out var folder)) _cellFolders[cell] = folder = $"cell-{_cellFolders.Count + 1}";
            return folder;
        }

        public void Raw(string html) => _html.Append(html);
        public void Note(string text) => _html.Append($"<p class=\"note\">{E(text)}</p>\n");
        public void Image(string file, string alt) => _html.Append($"<img src=\"{E(file)}\" alt=\"{E(alt)}\">\n");
        public override string ToString() => _html.ToString();
    }

    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff}" +
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}" +
        "th:first-child,td:first-child{text-align:left}tr.mean{font-weight:bold;background:#f3f3f3}" +
        ".plots,.overlays{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figure img{height:180px}figcaption{font-size:.85em;max-width:360px}" +
        ".note{background:#fff4d6;border-left:4px solid #e0a800;padding:.4em .8em}.small{font-size:.85em;color:#555}" +
        "section{margin-bottom:2.5em}";

    /// <summary>
    /// Once the page has loaded, counts the images that failed (missing or undecodable PNG), records the count on
    /// &lt;body&gt; for automated checks and shows it to the reader.
    /// </summary>
    private const string BrokenImageScript =
        "window.addEventListener('load',function(){" +
        "var broken=Array.prototype.filter.call(document.images,function(i){return !i.complete||i.naturalWidth===0;});" +
        "document.body.setAttribute('data-images',String(document.images.length));" +
        "document.body.setAttribute('" + BrokenImagesAttribute + "',String(broken.length));" +
        "if(broken.length){var p=document.getElementById('broken-images');p.hidden=false;" +
        "p.textContent=broken.length+' image(s) failed to load: '+broken.map(function(i){return i.getAttribute('src');}).join(', ');}" +
        "});";
}
