using System.CommandLine;
using Microsoft.Extensions.Logging;
using Vigil.Server;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>`vigil serve`: a thin front end over <see cref="VigilServer"/>; runs until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string>("--models") { Description = "Folder of model files (*.vgl from 'vigil train'); each is served under its file name. Files added or replaced are loaded while serving.", Required = true };
        var (host, port, urls) = ListenOptions();
        var results = SharedOptions.ResultsStore();
        results.Description = "A results store whose runs and cells the dashboard (/dashboard) shows: a SQLite file or a postgres:// address.";
        var concurrency = new Option<int>("--concurrency") { Description = "Predictions running at once (default: one per core).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait for a slot; more are answered 503 with Retry-After.", DefaultValueFactory = _ => 32 };
        var maxRequest = new Option<int>("--max-request-mb") { Description = "Largest request body in MiB.", DefaultValueFactory = _ => 32 };
        var apiKeyVariable = new Option<string?>("--api-key-env")
        {
            Description = "Name of an environment variable holding an API key; requests must then send it in the X-API-Key header (the key itself is never a command-line argument, so it stays out of process lists and logs).",
        };
        var weights = BackboneOptions.Weights();
        var command = new Command("serve",
            "Serve the models of a folder over HTTP: POST /v1/models/{name}/predict with an image returns its score, label and heat map. " +
            "Also /v1/models, /healthz, /readyz, /metrics (Prometheus), /openapi/v1.json and a web dashboard at /dashboard. Example: vigil serve --models models --port 8080")
        {
            models, host, port, urls, results, concurrency, queue, maxRequest, apiKeyVariable, weights,
        };
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            string? apiKey = null;
            if (parse.GetValue(apiKeyVariable) is { } variable)
                apiKey = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value
                    : throw new VigilInputException($"--api-key-env {variable}: the environment variable {variable} is not set.");
            var options = new ServerOptions
            {
                ModelsFolder = parse.GetValue(models)!,
                Results = parse.GetValue(results),
                Urls = parse.GetValue(urls) ?? $"http://{parse.GetValue(host)}:{parse.GetValue(port)}",
                Concurrency = parse.GetValue(concurrency),
                QueueLength = parse.GetValue(queue),
                MaxRequestBytes = (long)parse.GetValue(maxRequest) << 20,
                ApiKey = apiKey,
                Weights = WeightSource.Parse(parse.GetValue(weights)!),
            };
            return RunUntilStopped(options, $"Serving {options.ModelsFolder}", cancel);
        }));
        return command;
    }

    public static (Option<string> Host, Option<int> Port, Option<string?> Urls) ListenOptions() => (
        new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" },
        new Option<int>("--port", "-p") { Description = "Port to listen on.", DefaultValueFactory = _ => 8080 },
        new Option<string?>("--urls") { Description = "Addresses instead of --host/--port, separated by ';', e.g. https://0.0.0.0:8443 (the certificate comes from ASP.NET Core's Kestrel configuration)." });

    /// <summary>Starts the server and keeps it until Ctrl+C or SIGTERM; in-flight requests finish before it stops.</summary>
    public static int RunUntilStopped(ServerOptions options, string what, CancellationToken cancel)
    {
        using var logging = new ConsoleLoggerProvider();
        var server = VigilServer.StartAsync(options, logging).GetAwaiter().GetResult();
        try
        {
            Console.WriteLine($"{what} on {string.Join(", ", server.Addresses)} (Ctrl+C to stop)");
            WaitHandle.WaitAny([cancel.WaitHandle, server.Stopping.WaitHandle]);
            Console.WriteLine("stopping: finishing the requests in progress…");
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }

    /// <summary>Server log lines on stderr, one per event, with the time: model loads and failures, request errors.</summary>
    private sealed class ConsoleLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger();
        public void Dispose() { }

        private sealed class Logger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
            }
        }
    }
}
