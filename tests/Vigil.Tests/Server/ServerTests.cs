using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Vigil.Backbones;
using Vigil.Server;
using Vigil.UseCases;
using Vigil.Weights;
using Xunit.Abstractions;

namespace Vigil.Tests.Server;

/// <summary>
/// `vigil serve` on a loopback port, as a client sees it: the same numbers and pictures as `vigil predict`; every
/// malformed request a 4xx JSON error; a model replaced under concurrent requests without a failed request; a load
/// beyond capacity answered with 200s and deliberate 503s only, with flat memory; the OpenAPI document describing
/// the response; in-flight work finished on shutdown.
/// </summary>
public class ServerTests(ServedModels models, ITestOutputHelper output) : IClassFixture<ServedModels>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static Task<VigilServer> Start(string folder, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var options = new ServerOptions { ModelsFolder = folder, Urls = "http://127.0.0.1:0" };
        return VigilServer.StartAsync(configure?.Invoke(options) ?? options);
    }

    private static HttpClient Client(VigilServer server) => new() { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromMinutes(2) };

    private static ByteArrayContent Png(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    private static async Task<PredictionResponse> Predict(HttpClient client, string model, string image, string query = "")
    {
        using var response = await client.PostAsync($"/v1/models/{model}/predict{query}", Png(await File.ReadAllBytesAsync(image)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<PredictionResponse>(text, Web)!;
    }

    [Fact]
    public async Task PredictionsEqualVigilPredictOnTheSameFiles()
    {
        var folder = models.Folder(("line", models.First));
        var predictions = models.Data.Scratch("predict-out");
        var rows = PredictImages.Run(new PredictRequest { ModelFile = Path.Combine(folder, "line.vgl"), Inputs = models.TestImages, OutputFolder = predictions },
            SilentDisplay.Instance).Rows;
        await using var server = await Start(folder);
        using var client = Client(server);
        foreach (var row in rows)
        {
            var served = await Predict(client, "line", row.Path, "?map=both");
            Assert.Equal(row.Score, served.Score);
            Assert.Equal(row.NormalisedScore, served.NormalisedScore);
            Assert.Equal(row.Anomalous, served.Anomalous);
            Assert.Equal("model", served.ThresholdSource);
            Assert.Equal(await File.ReadAllBytesAsync(row.Heatmap!), Convert.FromBase64String(served.HeatmapPng!));
            Assert.Equal(await File.ReadAllBytesAsync(row.Overlay!), Convert.FromBase64String(served.OverlayPng!));
        }
        // A threshold per request decides the label; without map= no pictures are sent.
        var first = rows[0];
        var strict = await Predict(client, "line", first.Path, $"?threshold={(first.Score!.Value - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        Assert.Equal((true, "request", (string?)null), (strict.Anomalous!.Value, strict.ThresholdSource, strict.HeatmapPng));

        // Multipart, single and batch.
        using var form = new MultipartFormDataContent { { Png(await File.ReadAllBytesAsync(first.Path)), "image", "a.png" } };
        using var multipart = await client.PostAsync("/v1/models/line/predict", form);
        Assert.True(multipart.IsSuccessStatusCode, await multipart.Content.ReadAsStringAsync());
        Assert.Equal(first.Score, (await multipart.Content.ReadFromJsonAsync<PredictionResponse>(Web))!.Score);
        using var batchForm = new MultipartFormDataContent();
        foreach (var row in rows) batchForm.Add(Png(await File.ReadAllBytesAsync(row.Path)), "images", Path.GetFileName(row.Path));
        batchForm.Add(Png([1, 2, 3]), "images", "broken.png");
        using var batch = await client.PostAsync("/v1/models/line/predict/batch", batchForm);
        var results = (await batch.Content.ReadFromJsonAsync<BatchResponse>(Web))!.Results;
        Assert.Equal(rows.Select(r => r.Score), results.Take(rows.Count).Select(r => (float?)r.Prediction!.Score));
        Assert.Contains("cannot be decoded", results[^1].Error);
    }

    [Fact]
    public async Task EveryMalformedRequestIsA4xxJsonErrorThatSaysWhatWasWrong()
    {
        await using var server = await Start(models.Folder(("line", models.First)), o => o with { MaxRequestBytes = 1 << 20 });
        using var client = Client(server);
        var png = await File.ReadAllBytesAsync(models.TestImages[0]);
        var cases = new (string Name, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Code, string Says)[]
        {
            ("truncated PNG", () => client.PostAsync("/v1/models/line/predict", Png(png[..(png.Length / 2)])), HttpStatusCode.BadRequest, "cannot be decoded"),
            ("zero bytes", () => client.PostAsync("/v1/models/line/predict", Png([])), HttpStatusCode.BadRequest, "empty"),
            ("text file as PNG", () => client.PostAsync("/v1/models/line/predict", Png("not an image"u8.ToArray())), HttpStatusCode.BadRequest, "cannot be decoded"),
            ("2 MiB body", () => client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/models/line/predict")
            {
                Content = Png(new byte[2 << 20]), Headers = { ExpectContinue = true }, // as curl sends a large upload
            }), HttpStatusCode.RequestEntityTooLarge, "limit of 1 MiB"),
            ("wrong content type", () => client.PostAsync("/v1/models/line/predict", new StringContent("hello")), HttpStatusCode.UnsupportedMediaType, "text/plain"),
            ("unknown model", () => client.PostAsync("/v1/models/nope/predict", Png(png)), HttpStatusCode.NotFound, "Served: line"),
            ("unknown map", () => client.PostAsync("/v1/models/line/predict?map=jpeg", Png(png)), HttpStatusCode.BadRequest, "map=jpeg"),
            ("multipart without a file", () => client.PostAsync("/v1/models/line/predict", new MultipartFormDataContent { { new StringContent("x"), "note" } }), HttpStatusCode.BadRequest, "field 'image'"),
            ("no such endpoint", () => client.GetAsync("/v2/models"), HttpStatusCode.NotFound, "No endpoint"),
        };
        foreach (var (name, send, code, says) in cases)
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == code, $"{name}: {(int)response.StatusCode} {body}");
            var error = JsonSerializer.Deserialize<ErrorResponse>(body, Web)!.Error;
            Assert.Contains(says, error);
            Assert.DoesNotContain("   at ", error);
        }
        // The server is unharmed: a good image still scores.
        await Predict(client, "line", models.TestImages[0]);
    }

    [Fact]
    public async Task AnApiKeyGuardsEverythingButTheHealthChecksAndIsNeverEchoed()
    {
        const string key = "correct-horse-battery-staple";
        await using var server = await Start(models.Folder(("line", models.First)), o => o with { ApiKey = key });
        using var client = Client(server);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        using var refused = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("X-API-Key", await refused.Content.ReadAsStringAsync());
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { { "X-API-Key", key + "x" } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "X-API-Key", key } } };
        using var listed = await client.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.DoesNotContain(key, await listed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AModelReplacedUnderConcurrentRequestsIsSwappedWithoutAFailedRequest()
    {
        var folder = models.Folder(("line", models.First));
        await using var server = await Start(folder);
        using var client = Client(server);
        var image = await File.ReadAllBytesAsync(models.TestImages[^1]);
        var firstScore = (await Predict(client, "line", models.TestImages[^1])).Score;

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var scores = new List<float>();
        var clients = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.PostAsync("/v1/models/line/predict", Png(image));
                var text = await response.Content.ReadAsStringAsync();
                lock (failures)
                {
                    if (response.StatusCode != HttpStatusCode.OK) failures.Add($"{(int)response.StatusCode} {text}");
                    else scores.Add(JsonSerializer.Deserialize<PredictionResponse>(text, Web)!.Score);
                }
            }
        })).ToList();

        int generation = server.ModelGeneration;
        // Replaced the way Vigil writes model files: a complete file renamed over the old one.
        var staged = Path.Combine(folder, "line.vgl.partial");
        File.Copy(models.Second, staged);
        File.Move(staged, Path.Combine(folder, "line.vgl"), overwrite: true);
        var clock = Stopwatch.StartNew();
        while (server.ModelGeneration == generation && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        await Task.Delay(500); // requests keep flowing across the swap
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        var secondScore = (await Predict(client, "line", models.TestImages[^1])).Score;
        Assert.NotEqual(firstScore, secondScore);
        Assert.All(scores, s => Assert.True(s == firstScore || s == secondScore, $"score {s} is neither model's"));
        var listed = await client.GetFromJsonAsync<ModelList>("/v1/models", Web);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(models.Second))), Assert.Single(listed!.Models).FileSha256);

        // A broken file does not take the model out of service; it is reported.
        generation = server.ModelGeneration;
        await File.WriteAllTextAsync(Path.Combine(folder, "line.vgl"), "not a model");
        while (server.ModelGeneration == generation && clock.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(50);
        Assert.Equal(secondScore, (await Predict(client, "line", models.TestImages[^1])).Score);
        listed = await client.GetFromJsonAsync<ModelList>("/v1/models", Web);
        Assert.Contains("line.vgl", Assert.Single(listed!.Errors).File);
    }

    [Fact]
    public async Task LoadBeyondCapacityGetsOnlyAnswersAndDeliberate503sWithFlatMemory()
    {
        await using var server = await Start(models.Folder(("line", models.First)), o => o with { Concurrency = 1, QueueLength = 2 });
        using var client = Client(server);
        var image = await File.ReadAllBytesAsync(models.TestImages[0]);
        await Predict(client, "line", models.TestImages[0]); // warm-up
        using var process = Process.GetCurrentProcess();
        long before = process.WorkingSet64;

        // 4 × the cores' capacity of concurrent clients for a fixed time.
        int clients = 4 * Environment.ProcessorCount;
        var codes = new List<(HttpStatusCode Code, bool RetryAfter, double Ms)>();
        var until = DateTime.UtcNow.AddSeconds(8);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (DateTime.UtcNow < until)
            {
                var clock = Stopwatch.StartNew();
                using var response = await client.PostAsync("/v1/models/line/predict", Png(image));
                await response.Content.ReadAsByteArrayAsync();
                lock (codes) codes.Add((response.StatusCode, response.Headers.RetryAfter is not null, clock.Elapsed.TotalMilliseconds));
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable) await Task.Delay(20);
            }
        })));
        process.Refresh();
        long grown = process.WorkingSet64 - before;

        var ok = codes.Where(c => c.Code == HttpStatusCode.OK).Select(c => c.Ms).Order().ToList();
        var busy = codes.Count(c => c.Code == HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"{clients} clients, 8 s: {ok.Count} answered ({ok.Count / 8.0:F1}/s), {busy} refused with 503; " +
                         $"latency of answered p50 {ok[ok.Count / 2]:F0} ms, p99 {ok[(int)(ok.Count * 0.99)]:F0} ms; working set grew {grown / 1048576.0:F0} MiB");
        Assert.All(codes, c => Assert.True(c.Code is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"unexpected {c.Code}"));
        Assert.All(codes.Where(c => c.Code == HttpStatusCode.ServiceUnavailable), c => Assert.True(c.RetryAfter));
        Assert.NotEmpty(ok);
        Assert.True(busy > 0, "the queue never filled: the load did not exceed capacity");
        Assert.True(grown < 300L << 20, $"the working set grew {grown >> 20} MiB under load");
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains($"vigil_requests_total{{model=\"line\",code=\"503\"}} {busy}", metrics);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryFieldOfTheAnswers()
    {
        await using var server = await Start(models.Folder(("line", models.First)));
        using var client = Client(server);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/models/{name}/predict", out var predict));
        Assert.True(predict.GetProperty("post").GetProperty("responses").TryGetProperty("503", out _));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (var type in new[] { typeof(PredictionResponse), typeof(ModelInfo), typeof(BatchResponse), typeof(ErrorResponse) })
        {
            var properties = schemas.GetProperty(type.Name).GetProperty("properties");
            foreach (var property in type.GetProperties())
                Assert.True(properties.TryGetProperty(JsonNamingPolicy.CamelCase.ConvertName(property.Name), out _), $"{type.Name}.{property.Name} is not in the OpenAPI schema");
        }
    }

    [Fact]
    public async Task ReadinessFollowsTheFolderAndShutdownFinishesTheRequestsInFlight()
    {
        var folder = models.Folder();
        var server = await Start(folder);
        using var client = Client(server);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        int generation = server.ModelGeneration;
        File.Copy(models.First, Path.Combine(folder, "line.vgl"));
        var clock = Stopwatch.StartNew();
        while (server.ModelGeneration == generation && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        // A batch of many images is still being scored when the server is asked to stop: it completes.
        using var batchForm = new MultipartFormDataContent();
        var image = await File.ReadAllBytesAsync(models.TestImages[0]);
        for (int i = 0; i < 40; i++) batchForm.Add(Png(image), "images", $"{i}.png");
        var inFlight = client.PostAsync("/v1/models/line/predict/batch", batchForm);
        await Task.Delay(300);
        var stopping = server.StopAsync();
        using var response = await inFlight;
        await stopping;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(40, (await response.Content.ReadFromJsonAsync<BatchResponse>(Web))!.Results.Count(r => r.Prediction is not null));
        await server.DisposeAsync();
    }
}
