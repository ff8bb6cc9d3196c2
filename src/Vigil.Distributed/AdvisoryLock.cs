using Npgsql;

namespace Vigil.Distributed;

/// <summary>
/// A PostgreSQL session advisory lock held on its own connection. Unlike Hangfire.PostgreSql's distributed locks (rows
/// in its lock table, left behind by a killed process until their timeout expires), the server releases it the moment
/// the holder's connection ends, SIGKILL included, so a killed worker never blocks the cell it was running.
/// </summary>
internal sealed class AdvisoryLock : IDisposable
{
    private readonly NpgsqlConnection _connection;

    private AdvisoryLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>Takes the lock named <paramref name="name"/>, waiting while another session holds it.</summary>
    public static AdvisoryLock Acquire(string connectionString, string name, CancellationToken cancel)
    {
        // Unpooled: a pooled connection goes back to the pool with its session (and the lock) alive.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            connection.Open();
            using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended(@name, 0))", connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("name", name);
            using (cancel.Register(command.Cancel)) command.ExecuteNonQuery();
            cancel.ThrowIfCancellationRequested();
            return new AdvisoryLock(connection);
        }
        catch (NpgsqlException e) when (cancel.IsCancellationRequested)
        {
            connection.Dispose();
            throw new OperationCanceledException("Stopped waiting for the lock " + name, e, cancel); // a stopping worker hands the cell back
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Releases the lock before closing the session: the server ends a closed session (and frees its locks) a moment
    /// after the client has returned, so another session asking at once could still find it held. A lost connection
    /// has freed it already.
    /// </summary>
    public void Dispose()
    {
        try
        {
            using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
            command.ExecuteNonQuery();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { } // the session is gone, and its lock with it
        finally
        {
            _connection.Dispose();
        }
    }
}
