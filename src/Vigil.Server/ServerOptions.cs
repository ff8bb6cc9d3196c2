using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Server;

/// <summary>How `vigil serve` runs: which models, where it listens, and the limits that keep it alive under load.</summary>
public sealed record ServerOptions
{
    /// <summary>Folder of model files (*.vgl from `vigil train`); each is served under its file name without the extension. Null: no models (a dashboard only).</summary>
    public string? ModelsFolder { get; init; }

    /// <summary>A results store (SQLite path or PostgreSQL address, as <c>--results</c> takes) whose runs and cells the dashboard shows; null: no results pages.</summary>
    public string? Results { get; init; }

    /// <summary>Addresses to listen on, separated by ';' (e.g. "http://0.0.0.0:8080"); port 0 picks a free port.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Predictions running at once (over all models; one model scores one image at a time).</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>Requests that may wait for a free slot; beyond them the server answers 503 with Retry-After.</summary>
    public int QueueLength { get; init; } = 32;

    /// <summary>Largest request body (an image upload, or a batch of them).</summary>
    public long MaxRequestBytes { get; init; } = 32L << 20;

    /// <summary>When set, every request but the health checks must carry it in the X-API-Key header.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Backbone weights the models were trained with (the files record only their hash).</summary>
    public WeightSource Weights { get; init; } = WeightSource.Pretrained;

    /// <summary>Longer side of returned heat maps and overlays unless a request asks otherwise.</summary>
    public int MaxMapSide { get; init; } = PredictRequest.DefaultMaxMapSide;

    public void Validate()
    {
        if (ModelsFolder is null && Results is null) throw new VigilInputException("Nothing to serve: give a models folder, a results store, or both.");
        if (ModelsFolder is not null && !Directory.Exists(ModelsFolder)) throw new VigilInputException($"The models folder '{ModelsFolder}' does not exist; give the folder holding the .vgl files from 'vigil train'.");
        if (Concurrency < 1) throw new VigilInputException($"Concurrency {Concurrency} must be at least 1.");
        if (QueueLength < 0) throw new VigilInputException($"Queue length {QueueLength} must not be negative.");
        if (MaxRequestBytes < 1024) throw new VigilInputException($"The request size limit {MaxRequestBytes} bytes is too small for any image.");
        if (ApiKey is { Length: < 16 }) throw new VigilInputException("The API key must be at least 16 characters.");
        if (MaxMapSide < 16) throw new VigilInputException($"The largest map side {MaxMapSide} must be at least 16 pixels.");
    }
}
