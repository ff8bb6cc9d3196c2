using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Vigil.Tests.Results;

/// <summary>
/// A throw-away PostgreSQL cluster from Debian's postgresql package: initdb into a folder under /tmp, started on a
/// free loopback port with its Unix socket in that folder, stopped and deleted after the tests. PostgreSQL refuses
/// to run as root, so as root the server runs as the package's "postgres" user.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string BinariesRoot = "/usr/lib/postgresql";
    private readonly string binaries;
    private readonly string root = Path.Combine("/tmp", $"vigil-pg-{Guid.NewGuid():N}"[..22]);
    private int databases;

    public int Port { get; }

    public PostgresServer()
    {
        binaries = Directory.Exists(BinariesRoot)
            ? Directory.GetDirectories(BinariesRoot).Select(v => Path.Combine(v, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault() ?? ""
            : "";
        if (binaries.Length == 0)
            throw new InvalidOperationException(
                $"The PostgreSQL tests need the server binaries (initdb, pg_ctl) under {BinariesRoot}/VERSION/bin. " +
                "Install Debian's postgresql package: apt-get install postgresql");

        Port = FreePort();
        Directory.CreateDirectory(root);
        if (Environment.UserName == "root") Run("chown", ["postgres:postgres", root], asPostgres: false);
        Run(Path.Combine(binaries, "initdb"), ["-D", Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
        Start();
    }

    private string Data => Path.Combine(root, "data");

    /// <summary>Starts the (stopped) server again on the same port and socket.</summary>
    public void Start() =>
        Run(Path.Combine(binaries, "pg_ctl"), ["start", "-w", "-t", "30", "-D", Data, "-l", Path.Combine(root, "server.log"),
            "-o", $"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"]);

    /// <summary>Stops the server, cutting off every client (as a crash or a network loss would).</summary>
    public void Stop() => Run(Path.Combine(binaries, "pg_ctl"), ["stop", "-m", "immediate", "-w", "-D", Data]);

    /// <summary>Creates an empty database and returns its address in the Unix-socket form (?host=folder).</summary>
    public string NewDatabase() => SocketUrl(CreateDatabase());

    public string SocketUrl(string database) => $"postgresql://postgres@/{database}?host={root}&port={Port}";

    /// <summary>Creates an empty database and returns its name.</summary>
    public string CreateDatabase()
    {
        var name = $"vigil_{Interlocked.Increment(ref databases)}";
        using var connection = new NpgsqlConnection($"Host={root};Port={Port};Username=postgres;Database=postgres;Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return name;
    }

    /// <summary>The server's log so far.</summary>
    public string Log()
    {
        using var stream = new FileStream(Path.Combine(root, "server.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public void Dispose()
    {
        try { Stop(); }
        finally { Directory.Delete(root, recursive: true); }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Run(string program, string[] arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo(asPostgres && Environment.UserName == "root" ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/tmp", // the postgres user cannot enter root's working directory
        };
        if (start.FileName == "runuser") foreach (var a in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(); process.WaitForExit(); }
        if (process.ExitCode != 0)
        {
            var log = Path.Combine(root, "server.log");
            throw new InvalidOperationException($"{program} {string.Join(" ", arguments)} failed (exit {process.ExitCode}):\n{stdout}{stderr.Result}" +
                (File.Exists(log) ? $"\nserver log:\n{File.ReadAllText(log)}" : ""));
        }
    }
}
