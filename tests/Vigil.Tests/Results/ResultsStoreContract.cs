using System.Data.Common;
using System.Text.Json;
using Vigil.Engine;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>
/// What every results store must do, run once on SQLite and once on a real PostgreSQL server: runs and cells come
/// back exactly (NaN metrics too), their queryable rows hold the hand-written values, a resume lookup hits only the
/// same key and configuration, and a failed or killed save leaves whole cells only.
/// </summary>
public abstract class ResultsStoreContract : IDisposable
{
    protected readonly string Output = Directory.CreateTempSubdirectory("vigil-results-").FullName;

    /// <summary>A store spec naming a new, empty store.</summary>
    protected abstract string NewStore();

    /// <summary>A plain connection to the store <paramref name="spec"/> names, not going through the store's code.</summary>
    protected abstract DbConnection RawConnection(string spec);

    public void Dispose() => Directory.Delete(Output, recursive: true);

    private IResultsStore Open(string spec) => ResultsStore.Open(spec, Output);

    [Fact]
    public void RunsAndCellsRoundTrip()
    {
        var spec = NewStore();
        var run = ResultSamples.Run();
        var wood = ResultSamples.Cell();
        var tile = ResultSamples.Cell(wood.Key with { Category = "tile" }, images: 5) with { RandomWeights = true };
        long runId;
        using (var store = Open(spec))
        {
            runId = store.BeginRun(run);
            store.SaveCell(runId, wood, ResultSamples.Hash);
            store.SaveCell(runId, tile, ResultSamples.Hash);
            store.FinishRun(runId, RunStatus.Finished);
        }

        using var reopened = Open(spec);
        var loadedRun = Assert.Single(reopened.Runs());
        Assert.Equal(run with { Id = runId, Status = RunStatus.Finished, Finished = loadedRun.Finished }, loadedRun);
        Assert.NotNull(loadedRun.Finished);
        Assert.InRange(loadedRun.Finished.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        var cells = reopened.Cells(runId);
        Assert.Equal(2, cells.Count);
        AssertSameCell(wood, cells[0]);
        AssertSameCell(tile, cells[1]);
        Assert.True(double.IsNaN(cells[0].Metrics.PixelAuroc) && double.IsNaN(cells[0].Metrics.AuPro));
        Assert.True(float.IsNaN(cells[0].Metrics.PixelF1Max.Threshold));
        Assert.Equal(3.4028235e38f, cells[0].Images[1].Score);
        Assert.Empty(reopened.Cells(runId + 1));

        // The queryable rows hold the values written out by hand in ResultSamples, NaN as NULL.
        using var raw = RawConnection(spec);
        long woodId = Convert.ToInt64(Scalar(raw, "SELECT id FROM cells WHERE category = 'wood'"));
        Assert.Equal(ResultSamples.Metrics, NamedValues(raw, "metrics", woodId));
        Assert.Equal(ResultSamples.Timings, NamedValues(raw, "timings", woodId));
        Assert.Equal(wood.Metrics.Warnings, Rows(raw, $"SELECT message FROM warnings WHERE cell_id = {woodId} ORDER BY position", r => r.GetString(0)));
        Assert.Equal(wood.Images.Select(i => (i.Path, i.Anomalous, i.DefectType, (double)i.Score)),
            Rows(raw, $"SELECT path, anomalous, defect_type, score FROM images WHERE cell_id = {woodId} ORDER BY position",
                r => (r.GetString(0), r.GetBoolean(1), r.GetString(2), r.GetDouble(3))));
        Assert.Equal([("wood", 3L, false, 12L, 3L), ("tile", 3L, true, 12L, 5L)],
            Rows(raw, "SELECT category, seed, random_weights, train_count, test_count FROM cells ORDER BY id",
                r => (r.GetString(0), r.GetInt64(1), r.GetBoolean(2), r.GetInt64(3), r.GetInt64(4))));
        Assert.Equal((long)ResultsSchema.Version, Convert.ToInt64(Scalar(raw, "SELECT version FROM schema_version")));
    }

    [Fact]
    public void ResumeLookupHitsOnlyTheSameKeyAndConfiguration()
    {
        var spec = NewStore();
        var saved = ResultSamples.Cell();
        using (var writer = Open(spec))
        {
            long run = writer.BeginRun(ResultSamples.Run()); // never finished, as when the process was killed
            writer.SaveCell(run, saved, ResultSamples.Hash);
        }

        using var store = Open(spec);
        Assert.True(store.TryFindCell(saved.Key, ResultSamples.Hash, out var found));
        AssertSameCell(saved, found!);
        foreach (var other in new[]
                 {
                     saved.Key with { Model = "padim" }, saved.Key with { Dataset = "visa" }, saved.Key with { Category = "tile" },
                     saved.Key with { Setting = "fewshot-8" }, saved.Key with { Seed = 4 },
                 })
        {
            Assert.False(store.TryFindCell(other, ResultSamples.Hash, out var missed), other.ToString());
            Assert.Null(missed);
        }
        Assert.False(store.TryFindCell(saved.Key, ResultSamples.Hash + "0", out _));
        Assert.False(store.TryFindCell(saved.Key, ResultSamples.Hash.ToUpperInvariant(), out _));

        // A later save of the same cell is the one found.
        long second = store.BeginRun(ResultSamples.Run());
        store.SaveCell(second, saved with { TrainCount = 99 }, ResultSamples.Hash);
        Assert.True(store.TryFindCell(saved.Key, ResultSamples.Hash, out var latest));
        Assert.Equal(99, latest!.TrainCount);
    }

    [Fact]
    public void LatestCellsTakesTheLastSaveOfEachKeyAndConfiguration()
    {
        using var store = Open(NewStore());
        var wood = ResultSamples.Cell();
        var tile = ResultSamples.Cell(wood.Key with { Category = "tile" });
        long first = store.BeginRun(ResultSamples.Run());
        store.SaveCell(first, wood, "hash-a");
        store.SaveCell(first, tile, "hash-a");
        store.FinishRun(first, RunStatus.Finished);
        long second = store.BeginRun(ResultSamples.Run("resnet18"));
        store.SaveCell(second, wood with { TrainCount = 20 }, "hash-a");
        store.SaveCell(second, wood with { TrainCount = 30 }, "hash-b");

        var latest = store.LatestCells();
        Assert.Equal([(first, "hash-a", "tile", 12), (second, "hash-a", "wood", 20), (second, "hash-b", "wood", 30)],
            latest.Select(c => (c.RunId, c.ConfigurationHash, c.Result.Key.Category, c.Result.TrainCount)));
        Assert.Equal(["wide_resnet50_2", "resnet18"], store.Runs().Select(r => r.Backbone));
        Assert.Equal([RunStatus.Finished, RunStatus.Running], store.Runs().Select(r => r.Status));
    }

    [Fact]
    public void AFailureInTheMiddleOfSaveCellLeavesNoRows()
    {
        var spec = NewStore();
        using var store = Open(spec);
        long run = store.BeginRun(ResultSamples.Run());
        var good = ResultSamples.Cell();
        store.SaveCell(run, good, ResultSamples.Hash);

        // The last image has no path: the database refuses that row after the cell, metric, timing, warning and
        // other image rows were written, so the whole save must be undone.
        var broken = ResultSamples.Cell(good.Key with { Category = "tile" }, images: 50);
        var images = broken.Images.ToList();
        images[^1] = images[^1] with { Path = null! };
        Assert.ThrowsAny<DbException>(() => store.SaveCell(run, broken with { Images = images }, ResultSamples.Hash));

        using (var raw = RawConnection(spec))
            foreach (var (table, rows) in new[] { ("cells", 1L), ("metrics", (long)ResultSamples.Metrics.Count), ("timings", (long)ResultSamples.Timings.Count), ("warnings", 2L), ("images", 3L) })
                Assert.Equal((table, rows), (table, Convert.ToInt64(Scalar(raw, $"SELECT COUNT(*) FROM {table}"))));
        Assert.False(store.TryFindCell(broken.Key, ResultSamples.Hash, out _));

        // The store goes on working: the repaired cell saves whole.
        store.SaveCell(run, broken, ResultSamples.Hash);
        Assert.True(store.TryFindCell(broken.Key, ResultSamples.Hash, out var repaired));
        Assert.Equal(50, repaired!.Images.Count);
    }

    [Fact]
    public void AKilledWriterLeavesWholeCellsOnly()
    {
        var spec = NewStore();
        const int whole = 3;
        KilledWriter.RunAndKill(spec, whole); // killed halfway through writing the image rows of a fourth cell
        AssertAnOpenTransactionWasCutOff(spec);

        using var store = Open(spec);
        var run = Assert.Single(store.Runs());
        Assert.Equal(RunStatus.Running, run.Status); // killed: nobody finished it
        var cells = store.Cells(run.Id);
        Assert.Equal(Enumerable.Range(0, whole), cells.Select(c => c.Key.Seed));
        Assert.All(cells, c => Assert.Equal(KilledWriter.ImagesPerCell, c.Images.Count));
        Assert.False(store.TryFindCell(cells[0].Key with { Seed = whole }, ResultSamples.Hash, out _));
        using (var raw = RawConnection(spec))
            foreach (var (table, rows) in new[] { ("cells", 1L), ("metrics", (long)ResultSamples.Metrics.Count), ("timings", (long)ResultSamples.Timings.Count), ("warnings", 2L), ("images", KilledWriter.ImagesPerCell) })
                Assert.Equal((table, whole * rows), (table, Convert.ToInt64(Scalar(raw, $"SELECT COUNT(*) FROM {table}"))));

        // The store takes writes again (no lock or half transaction left behind).
        store.SaveCell(run.Id, ResultSamples.Cell(cells[0].Key with { Seed = whole }), ResultSamples.Hash);
        store.FinishRun(run.Id, RunStatus.Interrupted);
        Assert.Equal(RunStatus.Interrupted, Assert.Single(store.Runs()).Status);
        Assert.Equal(whole + 1, store.Cells(run.Id).Count);
    }

    /// <summary>Evidence, from the engine's side, that the writer died with its transaction open and rows written.</summary>
    protected abstract void AssertAnOpenTransactionWasCutOff(string spec);

    [Fact]
    public void AStoreOfAnotherSchemaVersionIsRefusedWithTheVersions()
    {
        var spec = NewStore();
        using (Open(spec)) { }
        using (var raw = RawConnection(spec)) Execute(raw, "UPDATE schema_version SET version = 99, written_by = '9.9.9'");

        var error = Assert.Throws<VigilInputException>(() => Open(spec));
        Assert.Contains("schema version 99", error.Message);
        Assert.Contains("Vigil 9.9.9", error.Message);
        Assert.Contains($"reads schema version {ResultsSchema.Version}", error.Message);
        Assert.Contains("newer Vigil", error.Message);
        using var raw2 = RawConnection(spec);
        Assert.Equal(99L, Convert.ToInt64(Scalar(raw2, "SELECT version FROM schema_version"))); // refused, not rewritten
    }

    [Fact]
    public void ADatabaseWithOtherTablesIsNotTakenOver()
    {
        var spec = NewStore();
        using (var raw = RawConnection(spec)) Execute(raw, "CREATE TABLE invoices (id BIGINT)");

        var error = Assert.Throws<VigilInputException>(() => Open(spec));
        Assert.Contains("not a Vigil results store", error.Message);
        Assert.Contains("invoices", error.Message);
        using var raw2 = RawConnection(spec);
        Assert.Equal(0L, Convert.ToInt64(Scalar(raw2, "SELECT COUNT(*) FROM invoices"))); // untouched, no tables added
    }

    private static void AssertSameCell(CellResult expected, CellResult actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected, ResultsStore.Json), JsonSerializer.Serialize(actual, ResultsStore.Json));

    private static Dictionary<string, double?> NamedValues(DbConnection raw, string table, long cellId) =>
        Rows(raw, $"SELECT name, value FROM {table} WHERE cell_id = {cellId}", r => (r.GetString(0), r.IsDBNull(1) ? (double?)null : r.GetDouble(1)))
            .ToDictionary(p => p.Item1, p => p.Item2);

    protected static List<T> Rows<T>(DbConnection raw, string sql, Func<DbDataReader, T> read)
    {
        using var command = raw.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    protected static object? Scalar(DbConnection raw, string sql)
    {
        using var command = raw.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    protected static void Execute(DbConnection raw, string sql)
    {
        using var command = raw.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
