using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;
using Vigil.Results;

namespace Vigil.Distributed;

/// <summary>How the queue hands out cells; the defaults suit hour-long cells on CPU.</summary>
public sealed record QueueOptions
{
    /// <summary>
    /// How long a cell whose worker stopped sending heartbeats (killed, powered off, cut off) stays invisible before
    /// another worker takes it. Sliding: a live worker renews it every fifth of it, so a cell may run for days.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an idle worker looks for a cell (PostgreSQL LISTEN/NOTIFY wakes it sooner).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Where a queued cell is: stored, waiting or running, or failed (with the error that failed it).</summary>
public enum CellStatus { Stored, Pending, Failed }

/// <summary>
/// The benchmark queue: Hangfire with its PostgreSQL storage (schema "hangfire", beside the results tables if they share
/// the database). Each cell is one job; a ledger in Hangfire's storage maps a cell hash to its job, so enqueuing a grid
/// again adds only cells that are neither stored nor waiting nor running.
/// </summary>
public sealed class CellQueue
{
    private const string LedgerPrefix = "vigil-cell:";
    private const string EnqueueLock = "vigil-enqueue";
    private static readonly HashSet<string> Waiting = [EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName];

    public string Location { get; }
    internal JobStorage Storage { get; }
    internal string ConnectionString { get; }
    public QueueOptions Options { get; }

    private CellQueue(string connectionString, string location, JobStorage storage, QueueOptions options) =>
        (ConnectionString, Location, Storage, Options) = (connectionString, location, storage, options);

    /// <summary>Opens the queue at a postgres:// address, creating Hangfire's tables on first use.</summary>
    public static CellQueue Open(string address, QueueOptions? options = null)
    {
        options ??= new QueueOptions();
        if (!address.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !address.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            throw new VigilInputException($"Queue '{PostgresAddress.RedactPasswords(address)}' is not a PostgreSQL address. Give postgres://USER:PASSWORD@HOST:PORT/DATABASE.");
        var (parsed, location) = PostgresAddress.Parse(address);
        var connectionString = new NpgsqlConnectionStringBuilder(parsed) { Pooling = true }.ConnectionString; // Hangfire opens a connection per operation
        var storageOptions = new PostgreSqlStorageOptions
        {
            PrepareSchemaIfNecessary = true,
            UseSlidingInvisibilityTimeout = true, // without it a cell running longer than the timeout is handed to a second worker
            InvisibilityTimeout = options.InvisibilityTimeout,
            QueuePollInterval = options.PollInterval,
            EnableLongPolling = true,
        };
        Configure();
        try
        {
            return new CellQueue(connectionString, location, new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions), options);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or InvalidOperationException)
        {
            throw new VigilInputException($"Queue {location} cannot be reached or prepared: {e.Message}. Check the address and that the server runs.", e);
        }
    }

    private static readonly Lazy<bool> Configured = new(() =>
    {
        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer() // job types by name, not by assembly version: workers may be other builds of the same Vigil
            .UseRecommendedSerializerSettings()
            .UseColouredConsoleLogProvider(Hangfire.Logging.LogLevel.Warn); // lost connections and retries show in the worker's log
        return true;
    });

    private static void Configure() => _ = Configured.Value;

    /// <summary>What <see cref="Enqueue"/> did with a grid.</summary>
    public sealed record EnqueueOutcome(int Enqueued, int AlreadyQueued, int AlreadyStored);

    /// <summary>
    /// Enqueues each order whose cell is neither in <paramref name="store"/> nor waiting or running in the queue, on its
    /// model's queue (<see cref="CellOrder.QueueFor"/>). A cell whose job failed is enqueued again: running the grid again
    /// is the user's retry. Enqueuers take turns, so two of them never queue one cell twice.
    /// </summary>
    public EnqueueOutcome Enqueue(IEnumerable<(CellOrder Order, string Queue)> orders, IResultsStore store)
    {
        using var turn = AdvisoryLock.Acquire(ConnectionString, EnqueueLock, CancellationToken.None);
        using var connection = Storage.GetConnection();
        var client = new BackgroundJobClient(Storage);
        int enqueued = 0, queued = 0, stored = 0;
        foreach (var (order, queue) in orders)
        {
            if (store.TryFindCell(order.Hash, out _)) { stored++; continue; }
            if (JobOf(connection, order.Hash) is { } job && connection.GetJobData(job)?.State is { } state && Waiting.Contains(state)) { queued++; continue; }
            var id = client.Create<CellJob>(j => j.Run(order.Spec.ToString(), order.ToJson(), CancellationToken.None), new EnqueuedState(queue));
            using var transaction = connection.CreateWriteTransaction();
            transaction.SetRangeInHash(LedgerPrefix + order.Hash, [new("JobId", id), new("Cell", order.Spec.ToString())]);
            transaction.Commit();
            enqueued++;
        }
        return new EnqueueOutcome(enqueued, queued, stored);
    }

    /// <summary>Where the cell of <paramref name="hash"/> is; for a failed cell, the error its job failed with.</summary>
    public (CellStatus Status, string? Error) Status(string hash, IResultsStore store)
    {
        if (store.TryFindCell(hash, out _)) return (CellStatus.Stored, null);
        using var connection = Storage.GetConnection();
        if (JobOf(connection, hash) is not { } job) return (CellStatus.Failed, "it is not in the queue (enqueue the grid again)");
        var state = connection.GetStateData(job);
        var name = state?.Name;
        if (name is null || name == DeletedState.StateName) return (CellStatus.Failed, $"its job {job} was deleted from the queue (enqueue the grid again)");
        if (name == FailedState.StateName)
            return (CellStatus.Failed, state!.Data.TryGetValue("ExceptionMessage", out var message) ? message : state.Reason);
        if (name == SucceededState.StateName)
            return store.TryFindCell(hash, out _) ? (CellStatus.Stored, null) // stored since the first look
                : (CellStatus.Failed, $"its job {job} succeeded but the cell is not in {store.Location}: the workers write to another results store");
        return (CellStatus.Pending, null);
    }

    private static string? JobOf(IStorageConnection connection, string hash) =>
        connection.GetAllEntriesFromHash(LedgerPrefix + hash) is { } entries && entries.TryGetValue("JobId", out var id) ? id : null;
}
