using System.Data.Common;
using Npgsql;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>The store contract on a real PostgreSQL server (one new database per test), plus reaching it by TCP.</summary>
public class PostgresResultsStoreTests(PostgresServer server) : ResultsStoreContract, IClassFixture<PostgresServer>
{
    protected override string NewStore() => server.NewDatabase();

    protected override DbConnection RawConnection(string spec)
    {
        var connection = new NpgsqlConnection(PostgresAddress.Parse(spec).ConnectionString);
        connection.Open();
        return connection;
    }

    protected override void AssertAnOpenTransactionWasCutOff(string spec)
    {
        // The server notices the dead client on its own time.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!server.Log().Contains("unexpected EOF on client connection with an open transaction") && clock.Elapsed.TotalSeconds < 10)
            Thread.Sleep(50);
        Assert.Contains("unexpected EOF on client connection with an open transaction", server.Log());
    }

    [Fact]
    public void TwoClientsShareOneStoreOverTcp()
    {
        var database = server.CreateDatabase();
        var tcp = $"postgres://postgres:unused@127.0.0.1:{server.Port}/{database}";
        using var first = ResultsStore.Open(tcp, Output);
        using var second = ResultsStore.Open(server.SocketUrl(database), Output);
        Assert.Equal($"postgres://postgres@127.0.0.1:{server.Port}/{database}", first.Location); // no password in messages

        long run = first.BeginRun(ResultSamples.Run());
        first.SaveCell(run, ResultSamples.Cell());
        Assert.True(second.TryFindCell(ResultSamples.Spec.Hash, out var seen));
        Assert.Equal(12, seen!.TrainCount);
        Assert.Equal(run, Assert.Single(second.Runs()).Id);
    }

    [Fact]
    public void AMissingDatabaseOrServerSaysSo()
    {
        var missing = Assert.Throws<VigilInputException>(() =>
            ResultsStore.Open(server.SocketUrl("no_such_db"), Output));
        Assert.Contains("no_such_db", missing.Message);
        Assert.Contains("does not exist", missing.Message);

        var unreachable = Assert.Throws<VigilInputException>(() =>
            ResultsStore.Open($"postgres://postgres:pw@127.0.0.1:{server.Port}/x?host=/tmp/vigil-no-such-socket-folder", Output));
        Assert.Contains("cannot be reached", unreachable.Message);
        Assert.DoesNotContain(":pw@", unreachable.Message);
    }
}
