using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Backbones;
using Vigil.Imaging;
using Vigil.Server.Dashboard;
using Vigil.UseCases;
using HttpResults = Microsoft.AspNetCore.Http.Results;

namespace Vigil.Server;

/// <summary>
/// `vigil serve`: an HTTP inference server over a folder of model files. Endpoints (JSON; OpenAPI at /openapi/v1.json):
/// <list type="bullet">
/// <item>POST /v1/models/{name}/predict: one image (raw body or multipart field "image"; PNG, JPEG, BMP, TIFF, 8/16-bit);
/// query threshold=, map=none|heatmap|overlay|both, max_map_side=;</item>
/// <item>POST /v1/models/{name}/predict/batch: several images as multipart files;</item>
/// <item>GET /v1/models, GET /v1/models/{name}; GET /healthz, /readyz; GET /metrics (Prometheus).</item>
/// <item>/dashboard: the web dashboard (<see cref="DashboardPages"/>); without a models folder it is all that is served.</item>
/// </list>
/// Bad requests are 4xx JSON errors that say what was wrong; a full queue is 503 with Retry-After.
/// </summary>
public sealed class VigilServer : IAsyncDisposable
{
    private const string ApiKeyHeader = "X-API-Key";
    private readonly WebApplication _app;
    private readonly ModelCatalog? _catalog;

    private VigilServer(WebApplication app, ModelCatalog? catalog)
    {
        _app = app;
        _catalog = catalog;
    }

    /// <summary>The addresses it listens on (with the actual port when port 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses =>
        [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];

    /// <summary>Model loads (and removals) finished since start; grows when a file in the folder was handled.</summary>
    public int ModelGeneration => _catalog?.Generation ?? 0;

    /// <summary>Ends when the host stops (SIGTERM, Ctrl+C, <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>Loads the models and starts listening.</summary>
    public static async Task<VigilServer> StartAsync(ServerOptions options, ILoggerProvider? logging = null)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.UseKestrelHttpsConfiguration(); // https:// addresses take the certificate from Kestrel's configuration
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        builder.Logging.ClearProviders();
        if (logging is not null) builder.Logging.AddProvider(logging);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // In-flight requests finish on shutdown (SIGTERM) before the models are freed.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals);
        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vigil.Server");
        var catalog = options.ModelsFolder is null ? null : new ModelCatalog(options.ModelsFolder, BackboneChoice.Resolver(options.Weights), log);
        DashboardPages? dashboard = null;
        try
        {
            Map(app, options, catalog, log);
            dashboard = new DashboardPages(options.Results, catalog);
            dashboard.Map(app);
            app.Lifetime.ApplicationStopped.Register(() =>
            {
                catalog?.Dispose();
                dashboard.Dispose();
            });
            try { await app.StartAsync(); }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                throw new VigilInputException($"The server cannot listen on {options.Urls}: {e.Message}" +
                    (e is IOException ? " (is another server on that port? choose another with --port)" : ""), e);
            }
            return new VigilServer(app, catalog);
        }
        catch
        {
            catalog?.Dispose();
            dashboard?.Dispose();
            throw;
        }
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void Map(WebApplication app, ServerOptions options, ModelCatalog? catalog, ILogger log)
    {
        var gate = new AdmissionGate(options.Concurrency, options.QueueLength);
        var metrics = new ServerMetrics();

        app.Use(async (context, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && !IsOpen(context.Request.Path) && !KeyMatches(context.Request.Headers[ApiKeyHeader], key))
                {
                    await Error(context, StatusCodes.Status401Unauthorized, $"Send the server's API key in the {ApiKeyHeader} header.");
                    return;
                }
                // Refused before the body is read: a client that waits for "100 Continue" (curl does above 1 MiB) sends nothing more.
                if (context.Request.ContentLength > options.MaxRequestBytes)
                {
                    await Error(context, StatusCodes.Status413PayloadTooLarge, TooLarge(options));
                    return;
                }
                await next(context);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                string message = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(options) : $"The request could not be read: {e.Message}";
                await Error(context, e.StatusCode, message);
            }
            catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
            {
                log.LogError(e, "Request {Path} failed", context.Request.Path);
                await Error(context, StatusCodes.Status500InternalServerError, "The server failed on this request; its log has the details.");
            }
        });

        // Answers the framework gives without a body (no such route, wrong method, a content type an endpoint does not take) get one too.
        app.UseStatusCodePages(async status =>
        {
            var http = status.HttpContext;
            string message = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"No endpoint {http.Request.Method} {http.Request.Path}; see /openapi/v1.json.",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}; see /openapi/v1.json.",
                StatusCodes.Status415UnsupportedMediaType => $"Content-Type '{http.Request.ContentType}' is not taken here: send an image as image/png, image/jpeg, image/bmp, image/tiff or application/octet-stream, or as multipart/form-data.",
                var code => $"HTTP {code}.",
            };
            await http.Response.WriteAsJsonAsync(new ErrorResponse(message));
        });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => HttpResults.Text("ok")).ExcludeFromDescription();
        if (catalog is null) return; // a dashboard of a results store only
        MapModels(app, options, catalog, gate, metrics);
    }

    private static void MapModels(WebApplication app, ServerOptions options, ModelCatalog catalog, AdmissionGate gate, ServerMetrics metrics)
    {
        app.MapGet("/readyz", () => catalog.Models.Count > 0
            ? HttpResults.Text("ready")
            : HttpResults.Json(new ErrorResponse($"No model is loaded from {options.ModelsFolder}" +
                (catalog.Errors.Count > 0 ? $"; {catalog.Errors.Count} file(s) failed to load (GET /v1/models)." : "; add .vgl files from 'vigil train'.")), statusCode: 503))
            .ExcludeFromDescription();
        app.MapGet("/metrics", () => HttpResults.Text(metrics.Render(gate.Running, gate.Waiting, catalog.Models.Count, catalog.Errors.Count), "text/plain; version=0.0.4"))
            .ExcludeFromDescription();

        app.MapGet("/v1/models", () => new ModelList([.. catalog.Models.Select(Info)], catalog.Errors))
            .WithSummary("The models in service (one per .vgl file) and the files that failed to load.");
        app.MapGet("/v1/models/{name}", (string name) =>
        {
            var model = catalog.Lease(name);
            if (model is null) return UnknownModel(catalog, name);
            try { return HttpResults.Ok(Info(model)); }
            finally { model.Release(); }
        }).WithSummary("One served model.").Produces<ModelInfo>().Produces<ErrorResponse>(404);

        app.MapPost("/v1/models/{name}/predict", async (HttpContext context, string name, float? threshold, string? map, int? max_map_side) =>
        {
            var result = await Predict(context, name, threshold, map, max_map_side, batch: false);
            metrics.Request(name, result.Code);
            return result.Result;
        }).WithSummary("Score one image: raw body (Content-Type image/* or application/octet-stream) or multipart/form-data field 'image'.")
          .Accepts<IFormFile>("multipart/form-data", "image/png", "image/jpeg", "image/bmp", "image/tiff", "application/octet-stream")
          .Produces<PredictionResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(404).Produces<ErrorResponse>(413)
          .Produces<ErrorResponse>(415).Produces<ErrorResponse>(503).DisableAntiforgery();

        app.MapPost("/v1/models/{name}/predict/batch", async (HttpContext context, string name, float? threshold, string? map, int? max_map_side) =>
        {
            var result = await Predict(context, name, threshold, map, max_map_side, batch: true);
            metrics.Request(name, result.Code);
            return result.Result;
        }).WithSummary("Score several images sent as multipart/form-data files; each result holds its prediction or its error.")
          .Accepts<IFormFileCollection>("multipart/form-data")
          .Produces<BatchResponse>().Produces<ErrorResponse>(400).Produces<ErrorResponse>(404).Produces<ErrorResponse>(503).DisableAntiforgery();

        async Task<(IResult Result, int Code)> Predict(HttpContext context, string name, float? threshold, string? map, int? maxMapSide, bool batch)
        {
            var pictures = ParseMaps(map);
            if (pictures is null) return Fail(400, $"map={map} is unknown; use none, heatmap, overlay or both.");
            if (maxMapSide is < 16 or > 16384) return Fail(400, $"max_map_side={maxMapSide} must be between 16 and 16384.");
            if (threshold is { } t && !float.IsFinite(t)) return Fail(400, "threshold must be a finite number.");
            var model = catalog.Lease(name);
            if (model is null) return (UnknownModel(catalog, name), 404);
            try
            {
                var uploads = await ReadUploads(context.Request, batch);
                if (uploads.Error is { } error) return Fail(error.Code, error.Message);
                using var ticket = await gate.EnterAsync(context.RequestAborted);
                if (ticket is null)
                {
                    context.Response.Headers.RetryAfter = "1";
                    return Fail(503, $"The server is busy ({options.Concurrency} predictions running, {options.QueueLength} waiting); retry after a second.");
                }
                await model.Turn.WaitAsync(context.RequestAborted);
                try
                {
                    var results = uploads.Files.Select(f => Score(model, f.Name, f.Bytes, threshold, pictures.Value, maxMapSide ?? options.MaxMapSide, metrics)).ToList();
                    if (batch) return (HttpResults.Ok(new BatchResponse(name, results)), 200);
                    var single = results[0];
                    return single.Prediction is { } p ? (HttpResults.Ok(p), 200) : Fail(400, single.Error!);
                }
                finally { model.Turn.Release(); }
            }
            finally { model.Release(); }
        }
    }

    private static string TooLarge(ServerOptions options) =>
        $"The request is larger than the server's limit of {options.MaxRequestBytes / 1048576.0:0.#} MiB; send a smaller image (or raise --max-request-mb).";

    private static (IResult, int) Fail(int code, string message) => (HttpResults.Json(new ErrorResponse(message), statusCode: code), code);

    private static BatchItem Score(ServedModel served, string file, byte[] bytes, float? threshold, (bool Heatmap, bool Overlay) pictures, int maxMapSide,
        ServerMetrics metrics)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var image = ImageIO.DecodeRgb(bytes, file);
            var scored = ScoreImage.Run(served.Model, image, maxMapSide);
            var calibration = served.Model.Calibration;
            float? applied = threshold ?? calibration?.ImageThreshold;
            var response = new PredictionResponse(served.Name, file, image.Width, image.Height, scored.Prediction.Score, scored.Decision?.NormalisedScore,
                applied is { } a ? scored.Prediction.Score >= a : null, applied, threshold is not null ? "request" : calibration is not null ? "model" : "none",
                clock.Elapsed.TotalMilliseconds,
                pictures.Heatmap ? Convert.ToBase64String(ImageIO.EncodePng(scored.Heatmap)) : null,
                pictures.Overlay ? Convert.ToBase64String(ImageIO.EncodePng(scored.Overlay)) : null,
                ImageLimits.IsTiny(image.Height, image.Width) ? ImageLimits.TinyWarning(file, image.Height, image.Width) : null);
            metrics.Latency(served.Name, clock.Elapsed.TotalSeconds);
            return new BatchItem(file, response, null);
        }
        catch (VigilInputException e)
        {
            return new BatchItem(file, null, e.Message);
        }
    }

    private sealed record Upload(string Name, byte[] Bytes);

    private sealed record Uploads(IReadOnlyList<Upload> Files, (int Code, string Message)? Error);

    /// <summary>The image(s) of a request: multipart files, or the raw body of an image content type.</summary>
    private static async Task<Uploads> ReadUploads(HttpRequest request, bool batch)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            var files = batch ? form.Files.ToList() : form.Files.GetFile("image") is { } image ? [image] : form.Files.Take(1).ToList();
            if (files.Count == 0)
                return new([], (400, batch ? "The multipart request holds no files; attach the images as file fields." : "The multipart request holds no file; attach the image as the field 'image'."));
            var uploads = new List<Upload>();
            foreach (var file in files)
            {
                using var memory = new MemoryStream();
                await file.CopyToAsync(memory, request.HttpContext.RequestAborted);
                uploads.Add(new Upload(string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, memory.ToArray()));
            }
            return new(uploads, null);
        }
        if (batch) return new([], (415, "A batch is sent as multipart/form-data with one file field per image."));
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is not null && !type.StartsWith("image/", StringComparison.Ordinal) && type != "application/octet-stream")
            return new([], (415, $"Content-Type '{request.ContentType}' is not an image: send the image bytes as image/png, image/jpeg, image/bmp, image/tiff or application/octet-stream, or as multipart field 'image'."));
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        return body.Length == 0 ? new([], (400, "The request body is empty; send the image bytes.")) : new([new Upload("body", body.ToArray())], null);
    }

    private static (bool Heatmap, bool Overlay)? ParseMaps(string? map) => (map ?? "none").ToLowerInvariant() switch
    {
        "none" => (false, false),
        "heatmap" => (true, false),
        "overlay" => (false, true),
        "both" => (true, true),
        _ => null,
    };

    private static IResult UnknownModel(ModelCatalog catalog, string name) => HttpResults.Json(new ErrorResponse(
        $"No model '{name}' is served. Served: {(catalog.Names.Count == 0 ? "none" : string.Join(", ", catalog.Names))} (the .vgl file names)."), statusCode: 404);

    private static ModelInfo Info(ServedModel served)
    {
        var model = served.Model;
        var backbone = model.Detector.Backbone;
        return new ModelInfo(served.Name, model.Detector.Model, model.Spec.Label, backbone?.Name, backbone?.WeightsSha256, backbone?.InputDescription,
            model.Calibration?.ImageThreshold, model.Calibration?.Rule, served.File, served.Sha256, served.LoadedAt,
            model.Provenance?.Dataset, model.Provenance?.Category, model.Provenance?.CreatedUtc, model.Provenance?.VigilVersion);
    }

    private static bool IsOpen(PathString path) => path == "/healthz" || path == "/readyz";

    private static bool KeyMatches(string? given, string key) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key));

    private static Task Error(HttpContext context, int code, string message)
    {
        context.Response.StatusCode = code;
        return context.Response.WriteAsJsonAsync(new ErrorResponse(message));
    }
}
