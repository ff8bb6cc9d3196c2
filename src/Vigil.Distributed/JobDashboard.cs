using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Vigil.Distributed;

/// <summary>
/// Hangfire's dashboard of the queue (cells waiting, running, failed with their errors, retries, servers) served on
/// 127.0.0.1 only: it can delete and requeue jobs, so it is reached through an SSH tunnel or `kubectl port-forward`,
/// never exposed (docs/distributed.md).
/// </summary>
public static class JobDashboard
{
    public const string Path = "/hangfire";

    /// <summary>Starts the dashboard on http://127.0.0.1:<paramref name="port"/>/hangfire; disposing stops it.</summary>
    public static async Task<IAsyncDisposable> StartAsync(CellQueue queue, int port)
    {
        if (port is < 1 or > 65535) throw new VigilInputException($"--dashboard-port {port} is not a port number from 1 to 65535.");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddHangfire(_ => { }); // the dashboard's routes; the storage is the queue's
        var app = builder.Build();
        app.UseHangfireDashboard(Path, new DashboardOptions { DashboardTitle = "Vigil queue", AppPath = null }, queue.Storage);
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new VigilInputException($"--dashboard-port {port}: {e.Message}. Give another port.", e);
        }
        return app;
    }
}
