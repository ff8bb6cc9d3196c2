using Npgsql;
using Vigil.Distributed;
using Vigil.Results;
using Vigil.Tests.Results;

namespace Vigil.Tests.Distributed;

/// <summary>The per-cell lock: held while its holder lives, released the moment it is disposed (even by a pooled connection string).</summary>
public class AdvisoryLockTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public void ALockIsExclusiveWhileHeldAndFreeOnceDisposed()
    {
        var pooled = new NpgsqlConnectionStringBuilder(PostgresAddress.Parse(server.NewDatabase()).ConnectionString) { Pooling = true }.ConnectionString;
        var held = AdvisoryLock.Acquire(pooled, "vigil-cell:abc", CancellationToken.None);
        Assert.False(TryLock(pooled, "vigil-cell:abc"));
        Assert.True(TryLock(pooled, "vigil-cell:other")); // another cell is not blocked
        held.Dispose();
        Assert.True(TryLock(pooled, "vigil-cell:abc"));
    }

    [Fact]
    public void AWaitingAcquireEndsWithItsCancellation()
    {
        var address = PostgresAddress.Parse(server.NewDatabase()).ConnectionString;
        using var held = AdvisoryLock.Acquire(address, "vigil-cell:abc", CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        Assert.ThrowsAny<OperationCanceledException>(() => AdvisoryLock.Acquire(address, "vigil-cell:abc", cancel.Token));
    }

    /// <summary>Tries the lock from a fresh session (released again at once by closing it).</summary>
    private static bool TryLock(string connectionString, string name)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended(@name, 0))", connection);
        command.Parameters.AddWithValue("name", name);
        return (bool)command.ExecuteScalar()!;
    }
}
