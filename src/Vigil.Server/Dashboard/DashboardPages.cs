using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Vigil.Reporting;
using Vigil.Results;
using static Vigil.Server.Dashboard.DashboardHtml;
using HttpResults = Microsoft.AspNetCore.Http.Results;

namespace Vigil.Server.Dashboard;

/// <summary>
/// The web dashboard under /dashboard: runs of a results store and their progress while running, the latest cells
/// filtered by model, dataset and setting with the HTML report's metric tables and plots (the report itself, drawn
/// by <see cref="HtmlReport"/> for the selected cells), and a page that sends an image to a served model's
/// /v1/models/{name}/predict and shows its verdict and heat map. Read-only: it never writes to the store.
/// </summary>
internal sealed class DashboardPages : IDisposable
{
    private readonly string? _results;
    private readonly ModelCatalog? _models;
    private readonly string _reports = Path.Combine(Path.GetTempPath(), $"vigil-dashboard-{Guid.NewGuid():N}");
    private readonly Lock _reportLock = new();

    /// <param name="results">A results store spec (as --results takes it), or null for no results pages.</param>
    /// <param name="models">The served models, or null for no upload page.</param>
    public DashboardPages(string? results, ModelCatalog? models)
    {
        _results = results;
        _models = models;
        if (results is not null) using (OpenStore()) { } // an unreachable or foreign store fails at start, not on the first page
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => HttpResults.Redirect(_results is null ? "/dashboard/predict" : "/dashboard")).ExcludeFromDescription();
        app.MapGet("/dashboard", RunsPage).ExcludeFromDescription();
        app.MapGet("/dashboard/runs/{id:long}", RunPage).ExcludeFromDescription();
        app.MapGet("/dashboard/runs/{id:long}/progress", Progress).ExcludeFromDescription();
        app.MapGet("/dashboard/cells", CellsPage).ExcludeFromDescription();
        app.MapGet("/dashboard/report", Report).ExcludeFromDescription();
        app.MapGet("/dashboard/report/{key}/{**file}", ReportFile).ExcludeFromDescription();
        app.MapGet("/dashboard/predict", PredictPage).ExcludeFromDescription();
    }

    private IResultsStore OpenStore() => ResultsStore.Open(_results, Directory.GetCurrentDirectory());

    private static IResult Html(string html) => HttpResults.Content(html, "text/html; charset=utf-8");

    private IResult NoStore(string title) =>
        Html(new DashboardHtml(title, _models is not null).Note("No results store is open: start with --results <store> to see runs and cells.").End());

    private IResult RunsPage()
    {
        if (_results is null) return NoStore("Runs");
        using var store = OpenStore();
        var runs = store.Runs().Reverse().ToList();
        var page = new DashboardHtml("Runs", _models is not null).Raw($"<p class=\"small\">Results store {E(store.Location)}; newest run first.</p>\n");
        if (runs.Count == 0) return Html(page.Note($"No runs in {store.Location} yet; 'vigil bench --results …' records them.").End());
        page.Table("runs", ["run", "started (UTC)", "status", "cells saved", "command", "Vigil"],
            runs.Select(r => (IReadOnlyList<string>)[r.Id.ToString(), $"{r.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss}", r.Status,
                store.Cells(r.Id).Count.ToString(), r.CommandLine, r.VigilVersion]),
            i => $"/dashboard/runs/{runs[i].Id}");
        return Html(page.End());
    }

    private IResult RunPage(long id)
    {
        if (_results is null) return NoStore("Run");
        using var store = OpenStore();
        var run = store.Runs().FirstOrDefault(r => r.Id == id);
        if (run is null) return HttpResults.Content(new DashboardHtml("Run not found", _models is not null).Note($"No run {id} in {store.Location}.").End(), "text/html; charset=utf-8", statusCode: 404);
        var cells = store.Cells(id);
        var page = new DashboardHtml($"Run {id}", _models is not null)
            .Raw($"<p>Status <b id=\"status\">{E(run.Status)}</b>; <b id=\"cells-done\">{cells.Count}</b> cell(s) saved; started {run.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" +
                 (run.Finished is { } f ? $", ended {f.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : "") + ".</p>\n" +
                 $"<p class=\"small\">{E(run.CommandLine)} · Vigil {E(run.VigilVersion)} · {E(run.Backbone)} · {E(run.Environment.MachineName)}, {run.Environment.Cores} cores</p>\n");
        if (run.Status == RunStatus.Running)
            page.Raw("<p class=\"small\" id=\"refresh\">Running: this page follows the run (checked every 2 s). A run whose process was killed stays 'running'.</p>\n");
        page.Table("cells", ["cell", "image AUROC", "pixel AUROC", "AU-PRO", "fit s", "latency ms"],
            cells.Select(c => (IReadOnlyList<string>)[c.Key.ToString(), Number(c.Metrics.ImageAuroc), Number(c.Metrics.PixelAuroc), Number(c.Metrics.AuPro),
                Number(c.Efficiency.FitSeconds, "F1"), Number(c.Efficiency.LatencyMedianMs, "F1")]));
        return Html(page.End(run.Status == RunStatus.Running ? FollowScript(id, cells.Count) : null));
    }

    /// <summary>A running run's state for the run page's script.</summary>
    private IResult Progress(long id)
    {
        if (_results is null) return HttpResults.Json(new ErrorResponse("No results store is open."), statusCode: 404);
        using var store = OpenStore();
        var run = store.Runs().FirstOrDefault(r => r.Id == id);
        return run is null ? HttpResults.Json(new ErrorResponse($"No run {id} in {store.Location}."), statusCode: 404)
            : HttpResults.Json(new RunProgress(run.Id, run.Status, store.Cells(id).Count, run.Finished));
    }

    public sealed record RunProgress(long Run, string Status, int CellsSaved, DateTimeOffset? Finished);

    private static string FollowScript(long id, int cells) =>
        "(function(){var seen=" + cells + ";function poll(){fetch('/dashboard/runs/" + id + "/progress').then(function(r){return r.json();}).then(function(p){" +
        "document.getElementById('status').textContent=p.status;document.getElementById('cells-done').textContent=String(p.cellsSaved);" +
        "if(p.cellsSaved!==seen||p.status!=='running'){location.reload();return;}setTimeout(poll,2000);}).catch(function(){setTimeout(poll,5000);});}" +
        "setTimeout(poll,2000);})();";

    private static CellFilter Filter(HttpRequest request)
    {
        string? Value(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        return new CellFilter(Value("model"), Value("dataset"), Value("setting"));
    }

    private IResult CellsPage(HttpRequest request)
    {
        if (_results is null) return NoStore("Cells");
        var filter = Filter(request);
        using var store = OpenStore();
        var all = store.LatestCells();
        var cells = all.Where(c => filter.Matches(c.Result.Key)).ToList();
        var page = new DashboardHtml("Cells", _models is not null)
            .Raw($"<p class=\"small\">The latest result of each cell specification in {E(store.Location)}.</p>\n<form class=\"filters\" method=\"get\" action=\"/dashboard/cells\">\n");
        foreach (var (name, values, chosen) in new[]
                 {
                     ("model", all.Select(c => c.Result.Key.Model), filter.Model),
                     ("dataset", all.Select(c => c.Result.Key.Dataset), filter.Dataset),
                     ("setting", all.Select(c => c.Result.Key.Setting), filter.Setting),
                 })
            page.Raw($"<label>{name}<select name=\"{name}\"><option value=\"\">all</option>" +
                     string.Concat(values.Distinct().Order(StringComparer.Ordinal).Select(v => $"<option{(v == chosen ? " selected" : "")}>{E(v)}</option>")) +
                     "</select></label>\n");
        page.Raw("<button type=\"submit\">filter</button></form>\n");
        if (cells.Count == 0) return Html(page.Note($"No cells match {filter}.").End());
        page.Table("cells", ["cell", "run", "image AUROC", "pixel AUROC", "AU-PRO", "latency ms", "saved (UTC)"],
            cells.Select(c => (IReadOnlyList<string>)[c.Result.Key.ToString(), c.RunId.ToString(), Number(c.Result.Metrics.ImageAuroc),
                Number(c.Result.Metrics.PixelAuroc), Number(c.Result.Metrics.AuPro), Number(c.Result.Efficiency.LatencyMedianMs, "F1"),
                $"{c.Saved.UtcDateTime:yyyy-MM-dd HH:mm:ss}"]),
            i => $"/dashboard/runs/{cells[i].RunId}");
        var query = request.QueryString.Value ?? "";
        page.Raw($"<h2>Report of {E(filter.ToString())}</h2>\n<p class=\"small\">The HTML report's tables and plots for these cells " +
                 $"(<a href=\"/dashboard/report{E(query)}\" target=\"_blank\">open alone</a>).</p>\n" +
                 $"<iframe id=\"report\" src=\"/dashboard/report{E(query)}\" title=\"report\"></iframe>\n");
        // The report is a page of its own (same origin): the frame grows to its height so the page scrolls once.
        return Html(page.End("document.getElementById('report').addEventListener('load',function(){var f=this;f.style.height=(f.contentDocument.documentElement.scrollHeight+20)+'px';});"));
    }

    /// <summary>
    /// The HTML report of the selected cells, written once per selection and store state (a new cell makes a new
    /// report) into the dashboard's temporary folder, then served from there.
    /// </summary>
    private IResult Report(HttpRequest request)
    {
        if (_results is null) return NoStore("Report");
        var filter = Filter(request);
        using var store = OpenStore();
        var view = new FilteredResults(store, filter);
        var cells = view.LatestCells();
        var continual = view.LatestContinual();
        var state = $"{filter}\n{string.Join(",", cells.Select(c => c.CellId))}\n{string.Join(",", continual.Select(c => c.Spec.Hash))}";
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)))[..16];
        var folder = Path.Combine(_reports, key);
        lock (_reportLock)
        {
            if (!Directory.Exists(folder))
            {
                if (cells.Count == 0 && continual.Count == 0)
                    return Html(new DashboardHtml("Report", _models is not null).Note($"No cells match {filter}.").End());
                var writing = folder + ".writing";
                if (Directory.Exists(writing)) Directory.Delete(writing, recursive: true);
                HtmlReport.Write(writing, view, $"Vigil report: {filter}");
                Directory.Move(writing, folder); // whole or absent: a failed write is never served
            }
        }
        return HttpResults.Redirect($"/dashboard/report/{key}/{HtmlReport.FileName}");
    }

    private IResult ReportFile(string key, string file)
    {
        var root = Path.Combine(_reports, key);
        var path = Path.GetFullPath(Path.Combine(root, file));
        // The key is the hash Report made; the file must stay inside its folder (no ../ out of it).
        if (!key.All(char.IsAsciiHexDigitLower) || !path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
            return HttpResults.Json(new ErrorResponse($"No report file {key}/{file}; open the report again from /dashboard/cells."), statusCode: 404);
        string type = Path.GetExtension(path) switch { ".html" => "text/html; charset=utf-8", ".png" => "image/png", _ => "application/octet-stream" };
        return HttpResults.File(path, type);
    }

    private IResult PredictPage()
    {
        var page = new DashboardHtml("Try a model", _models is not null);
        var names = _models?.Names ?? [];
        if (names.Count == 0)
            return Html(page.Note(_models is null ? "No models are served: start 'vigil serve --models <folder>' to try one." : "No model is loaded yet; add .vgl files from 'vigil train' to the models folder.").End());
        page.Raw("<form id=\"predict\">\n<label>model<select id=\"model\">" + string.Concat(names.Select(n => $"<option>{E(n)}</option>")) + "</select></label>\n" +
                 "<div id=\"drop\">Drop an image here (PNG, JPEG, BMP, TIFF) or <input type=\"file\" id=\"file\" accept=\"image/*,.tif,.tiff\"></div>\n" +
                 "<label>API key (only if the server asks for one)<input type=\"password\" id=\"key\" autocomplete=\"off\"></label>\n</form>\n" +
                 "<p id=\"error\" class=\"note\" hidden></p>\n<div id=\"result\" hidden><p class=\"verdict\" id=\"verdict\"></p>\n" +
                 "<p id=\"details\"></p>\n<div class=\"pictures\"><figure><img id=\"heatmap\" alt=\"anomaly heat map\"><figcaption>heat map</figcaption></figure>" +
                 "<figure><img id=\"overlay\" alt=\"heat map over the image\"><figcaption>overlay</figcaption></figure></div></div>\n");
        return Html(page.End(PredictScript));
    }

    /// <summary>Sends the image to /v1/models/{name}/predict?map=both and shows the answer; every text is set as textContent.</summary>
    private const string PredictScript = """
        (function(){
        var drop=document.getElementById('drop'),file=document.getElementById('file');
        function show(id,text){var e=document.getElementById(id);e.textContent=text;e.hidden=!text;}
        function send(image){
          show('error','');document.getElementById('result').hidden=true;
          var model=document.getElementById('model').value,form=new FormData(),headers={},key=document.getElementById('key').value;
          form.append('image',image,image.name||'image');
          if(key)headers['X-API-Key']=key;
          fetch('/v1/models/'+encodeURIComponent(model)+'/predict?map=both',{method:'POST',body:form,headers:headers})
            .then(function(r){return r.json().then(function(j){return {ok:r.ok,status:r.status,body:j};});})
            .then(function(a){
              if(!a.ok){show('error','HTTP '+a.status+': '+(a.body.error||'error'));return;}
              var p=a.body,v=document.getElementById('verdict');
              v.textContent=p.anomalous===true?'ANOMALOUS':p.anomalous===false?'normal':'no threshold: score only';
              v.className='verdict '+(p.anomalous===true?'anomalous':p.anomalous===false?'normal':'');
              document.getElementById('details').textContent=(p.file||'')+' '+p.width+'×'+p.height+': score '+p.score.toPrecision(5)+
                (p.threshold!=null?' (threshold '+p.threshold.toPrecision(5)+', '+p.thresholdSource+')':'')+
                (p.normalisedScore!=null?', normalised '+p.normalisedScore.toFixed(3):'')+'; '+p.latencyMs.toFixed(1)+' ms';
              document.getElementById('heatmap').src='data:image/png;base64,'+p.heatmapPng;
              document.getElementById('overlay').src='data:image/png;base64,'+p.overlayPng;
              document.getElementById('result').hidden=false;document.body.setAttribute('data-verdict',v.textContent);
            })
            .catch(function(e){show('error','The request failed: '+e);});
        }
        file.addEventListener('change',function(){if(file.files.length)send(file.files[0]);});
        drop.addEventListener('dragover',function(e){e.preventDefault();drop.classList.add('over');});
        drop.addEventListener('dragleave',function(){drop.classList.remove('over');});
        drop.addEventListener('drop',function(e){e.preventDefault();drop.classList.remove('over');if(e.dataTransfer.files.length)send(e.dataTransfer.files[0]);});
        })();
        """;

    public void Dispose()
    {
        try { if (Directory.Exists(_reports)) Directory.Delete(_reports, recursive: true); }
        catch (IOException) { } // a report file still open by a request: the temporary folder is left to the system
    }
}
