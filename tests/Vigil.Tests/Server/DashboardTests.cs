using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using OpenCvSharp;
using Vigil.Backbones;
using Vigil.Benchmark;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Results;
using Vigil.Server;
using Vigil.Tests.Benchmark;
using Vigil.UseCases;
using Vigil.Weights;
using Xunit.Abstractions;

namespace Vigil.Tests.Server;

/// <summary>
/// A results store and a model for the dashboard tests, made once: one real PatchCore cell (ONNX MobileNetV2 on a
/// tiny synthetic category) saved under two dataset labels in a finished run, and once more in a run left running;
/// and a calibrated PatchCore model file in a models folder.
/// </summary>
public sealed class DashboardData : IDisposable
{
    public TinySynthetic Data { get; } = new(trainCount: 8, testGoodCount: 3, perDefectCount: 1);
    public string Store { get; }
    public string ModelsFolder { get; }
    public long RunningRun { get; }
    public CellOutcome Outcome { get; }

    public DashboardData()
    {
        SharedData.RequireDirectory("weights");
        var split = Data.Load();
        var backbone = new BackboneChoice("mobilenetv2_int8_onnx", WeightSource.Pretrained);
        Store = Path.Combine(Data.Scratch("store"), "results.sqlite");
        using (var store = ResultsStore.Open(Store, "."))
        {
            long finished = store.BeginRun(RunRecord.StartingNow("dashboard tests", "{}", backbone.Name, null));
            Outcome = CellRunner.Run(TestSpecs.Cell(dataset: "line-a", backbone: backbone.Name, weights: "pretrained"), DetectorRegistry.Parse("patchcore"), backbone, split);
            store.SaveCell(finished, Outcome.Result, Outcome.ArtifactFiles);
            store.SaveCell(finished, WithDataset(Outcome.Result, "line-b <&>"), Outcome.ArtifactFiles); // a name that needs escaping
            store.FinishRun(finished, RunStatus.Finished);
            RunningRun = store.BeginRun(RunRecord.StartingNow("dashboard tests: running", "{}", backbone.Name, null));
            store.SaveCell(RunningRun, WithDataset(Outcome.Result, "line-c"), Outcome.ArtifactFiles);
        }
        ModelsFolder = Data.Scratch("models");
        TrainModel.Run(new TrainRequest
        {
            Model = DetectorRegistry.Parse("patchcore"), Backbone = backbone, Dataset = $"synthetic:{Data.Root}", Category = TinySynthetic.Category,
            OutputPath = Path.Combine(ModelsFolder, "line.vgl"), Calibration = new CalibrationRequest(ValidationRatio: 0.3),
        }, SilentDisplay.Instance);
    }

    public static CellResult WithDataset(CellResult cell, string dataset) =>
        cell with { Spec = cell.Spec with { Dataset = dataset, DatasetSpec = dataset } };

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// The dashboard in headless Chromium (Debian's, driven by Playwright): every page loads without console errors or
/// broken images, the filters select cells, a running run's page follows new cells, the report frame shows the
/// report's tables and plots, and the upload page shows the verdict the predict API gives for the same image.
/// </summary>
public class DashboardTests(DashboardData data, ITestOutputHelper output) : IClassFixture<DashboardData>
{
    private const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Screenshots are kept here (outside the test's temporary folders) to be looked at after a run.</summary>
    private static readonly string Screenshots = Path.Combine(Path.GetTempPath(), "vigil-dashboard-screenshots");

    private sealed class Browser : IAsyncDisposable
    {
        private IPlaywright _playwright = null!;
        private IBrowser _browser = null!;
        public IPage Page { get; private set; } = null!;
        public List<string> Problems { get; } = [];

        public static async Task<Browser> Open()
        {
            Assert.True(File.Exists(ChromiumPath), "Headless Chromium is needed for the dashboard tests: apt-get install -y chromium");
            var b = new Browser { _playwright = await Playwright.CreateAsync() };
            b._browser = await b._playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
            b.Page = await b._browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            b.Page.Console += (_, m) => { if (m.Type == "error") b.Problems.Add($"console: {m.Text}"); };
            b.Page.PageError += (_, e) => b.Problems.Add($"page error: {e}");
            b.Page.RequestFailed += (_, r) => b.Problems.Add($"request failed: {r.Url} {r.Failure}");
            b.Page.Response += (_, r) => { if (r.Status >= 400) b.Problems.Add($"HTTP {r.Status}: {r.Url}"); };
            return b;
        }

        /// <summary>Goes to the page and checks it loaded whole: no console error, failed request, or broken image in it or its frames.</summary>
        public async Task Visit(Uri url)
        {
            var response = await Page.GotoAsync(url.AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
            Assert.True(response is { Ok: true }, $"{url}: HTTP {response?.Status}");
            await AssertWhole(url.AbsoluteUri);
        }

        public async Task AssertWhole(string what)
        {
            foreach (var frame in Page.Frames)
            {
                var broken = await frame.EvaluateAsync<string[]>("Array.from(document.images).filter(i=>i.getAttribute('src')&&(!i.complete||i.naturalWidth===0)).map(i=>i.getAttribute('src'))");
                Assert.True(broken.Length == 0, $"{what}: broken images {string.Join(", ", broken)}");
            }
            Assert.True(Problems.Count == 0, $"{what}:\n{string.Join("\n", Problems)}");
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
    }

    private Task<VigilServer> Start(bool models = true) => VigilServer.StartAsync(new ServerOptions
    {
        ModelsFolder = models ? data.ModelsFolder : null, Results = data.Store, Urls = "http://127.0.0.1:0",
    });

    private async Task Screenshot(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        var path = Path.Combine(Screenshots, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        using var shot = Cv2.ImRead(path, ImreadModes.Grayscale);
        Cv2.MeanStdDev(shot, out _, out var deviation);
        Assert.True(deviation.Val0 > 10, $"The screenshot {path} looks blank: grey-level standard deviation {deviation.Val0:F1}");
        output.WriteLine($"screenshot: {path}");
    }

    [Fact]
    public async Task RunsCellsFiltersAndTheReportLoadWhole()
    {
        await using var server = await Start(models: false); // `vigil dashboard`: a results store alone
        var root = server.Addresses[0];
        await using var browser = await Browser.Open();
        var page = browser.Page;

        await browser.Visit(new Uri(root, "/dashboard"));
        Assert.Equal(["2", "1"], await page.Locator("#runs tbody tr td:nth-child(1)").AllTextContentsAsync()); // newest first
        Assert.Equal(["running", "finished"], await page.Locator("#runs tbody tr td:nth-child(3)").AllTextContentsAsync());
        Assert.Equal(["1", "2"], await page.Locator("#runs tbody tr td:nth-child(4)").AllTextContentsAsync());

        await browser.Visit(new Uri(root, "/dashboard/cells"));
        Assert.Equal(3, await page.Locator("#cells tbody tr").CountAsync());
        // The escaped dataset name comes back as the same text, not as markup.
        Assert.Contains("line-b <&>", await page.Locator("select[name=dataset] option").AllTextContentsAsync());
        await page.SelectOptionAsync("select[name=dataset]", "line-b <&>");
        await Task.WhenAll(page.WaitForURLAsync("**/dashboard/cells?**"), page.ClickAsync("button[type=submit]"));
        await page.WaitForLoadStateAsync(LoadState.Load);
        await browser.AssertWhole("filtered cells");
        var rows = await page.Locator("#cells tbody tr td:nth-child(1)").AllTextContentsAsync();
        Assert.Equal([DashboardData.WithDataset(data.Outcome.Result, "line-b <&>").Key.ToString()], rows);

        // The report of the selection, in its frame: one metric table (this dataset only), plots and overlays that load.
        var report = page.Frames.Single(f => f.Url.Contains("/dashboard/report/"));
        Assert.Equal(1, await report.Locator("section h2", new() { HasTextString = "line-b <&>" }).CountAsync());
        Assert.Equal(0, await report.Locator("section h2", new() { HasTextString = "line-a" }).CountAsync());
        Assert.True(await report.Locator("img").CountAsync() > 3);
        Assert.Equal("0", await report.Locator("body").GetAttributeAsync(Vigil.Reporting.HtmlReport.BrokenImagesAttribute));
        await Screenshot(page, "cells-filtered");
    }

    [Fact]
    public async Task TextFromTheStoreIsEscapedAndReportFilesStayInTheirFolder()
    {
        await using var server = await Start(models: false);
        using var client = new HttpClient { BaseAddress = server.Addresses[0] };
        var cells = await client.GetStringAsync("/dashboard/cells");
        Assert.Contains("line-b &lt;&amp;&gt;", cells);
        Assert.DoesNotContain("line-b <&>", cells);

        using var report = await client.GetAsync("/dashboard/report?dataset=line-a");
        Assert.Equal(System.Net.HttpStatusCode.OK, report.StatusCode); // followed the redirect to the written page
        var key = report.RequestMessage!.RequestUri!.Segments[^2].TrimEnd('/');
        var secret = Path.Combine(Path.GetTempPath(), $"vigil-secret-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(secret, "secret");
        try
        {
            foreach (var path in new[] { $"/dashboard/report/{key}/..%2F..%2F{Path.GetFileName(secret)}", $"/dashboard/report/..%2F{key}/report.html", "/dashboard/report/0000/report.html" })
            {
                using var response = await client.GetAsync(path);
                Assert.True(response.StatusCode == System.Net.HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            }
        }
        finally { File.Delete(secret); }
    }

    [Fact]
    public async Task ARunningRunsPageFollowsItsNewCells()
    {
        await using var server = await Start(models: false);
        await using var browser = await Browser.Open();
        var page = browser.Page;
        await browser.Visit(new Uri(server.Addresses[0], $"/dashboard/runs/{data.RunningRun}"));
        int before = int.Parse(await page.Locator("#cells-done").TextContentAsync() ?? "");
        Assert.Equal("running", await page.Locator("#status").TextContentAsync());

        using (var store = ResultsStore.Open(data.Store, "."))
        {
            store.SaveCell(data.RunningRun, DashboardData.WithDataset(data.Outcome.Result, $"line-{Guid.NewGuid():N}"), data.Outcome.ArtifactFiles);
            store.FinishRun(data.RunningRun, RunStatus.Finished);
        }
        // The page checks every 2 s and reloads on a change.
        await page.WaitForFunctionAsync("document.getElementById('status')&&document.getElementById('status').textContent==='finished'", null, new() { Timeout = 20_000 });
        Assert.Equal((before + 1).ToString(), await page.Locator("#cells-done").TextContentAsync());
        Assert.Equal(before + 1, await page.Locator("#cells tbody tr").CountAsync());
        await browser.AssertWhole("run page after the run ended");
    }

    [Fact]
    public async Task TheUploadPageShowsTheVerdictAndMapsThePredictApiGives()
    {
        await using var server = await Start();
        var root = server.Addresses[0];
        var anomalous = data.Data.Load().Test.First(s => s.IsAnomalous).SourcePath;
        using var client = new HttpClient { BaseAddress = root };
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(anomalous));
        content.Headers.ContentType = new("image/png");
        using var api = await client.PostAsync("/v1/models/line/predict", content);
        var expected = (await api.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("anomalous").GetBoolean();

        await using var browser = await Browser.Open();
        var page = browser.Page;
        await browser.Visit(new Uri(root, "/dashboard/predict"));
        await page.SetInputFilesAsync("#file", anomalous);
        await page.WaitForSelectorAsync("body[data-verdict]", new() { Timeout = 60_000 });
        Assert.Equal(expected ? "ANOMALOUS" : "normal", await page.Locator("#verdict").TextContentAsync());
        Assert.Contains("score", await page.Locator("#details").TextContentAsync());
        foreach (var id in new[] { "#heatmap", "#overlay" })
            Assert.True(await page.EvalOnSelectorAsync<int>(id, "i=>i.naturalWidth") > 0, $"{id} did not load");
        await browser.AssertWhole("upload page with a verdict");
        await Screenshot(page, "upload-verdict");

        // A file that is no image: the page shows the API's message, not a verdict.
        var text = Path.Combine(data.Data.Scratch("upload"), "notes.png");
        await File.WriteAllTextAsync(text, "not an image");
        browser.Problems.Clear();
        await page.SetInputFilesAsync("#file", text);
        await page.WaitForSelectorAsync("#error:not([hidden])");
        Assert.Contains("HTTP 400", await page.Locator("#error").TextContentAsync());
    }
}
