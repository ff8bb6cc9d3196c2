using System.Data.Common;
using System.Text.Json;
using Vigil.Benchmark;
using Vigil.Records;
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
        var tile = ResultSamples.Cell(wood.Spec with { Category = "tile" }, images: 5) with { RandomWeights = true, Artifacts = null };
        long runId;
        using (var store = Open(spec))
        {
            runId = store.BeginRun(run);
            store.SaveCell(runId, wood, ResultSamples.Files);
            store.SaveCell(runId, tile);
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
        Assert.Equal([wood.Spec.Hash, tile.Spec.Hash], Rows(raw, "SELECT configuration_hash FROM cells ORDER BY id", r => r.GetString(0)));

        // Artifact files come back byte for byte, by cell and name.
        var stored = reopened.LatestCells();
        var woodCell = stored.Single(c => c.Result.Key.Category == "wood").CellId;
        var tileCell = stored.Single(c => c.Result.Key.Category == "tile").CellId;
        Assert.Equal(ResultSamples.Files["overlays/top-anomaly-1.png"], reopened.ReadArtifact(woodCell, "overlays/top-anomaly-1.png"));
        Assert.Null(reopened.ReadArtifact(woodCell, "overlays/false-alarm-1.png"));
        Assert.Null(reopened.ReadArtifact(tileCell, "overlays/top-anomaly-1.png"));
    }

    [Fact]
    public void ContinualRunsRoundTripAndAreFoundBySpecification()
    {
        var store = Open(NewStore());
        using (store)
        {
            var matrix = new double[2, 2] { { 0.75, double.NaN }, { 0.5, 0.875 } };
            var metric = ContinualMetric.From("image_auroc", matrix);
            var test = new ContinualTest("wood", 4, 1.5, ResultSamples.Cell().Metrics);
            var continual = new ContinualResult(ResultSamples.Spec with { Category = "wood+tile", SettingName = "continual", SettingSpec = "continual" },
                false, ["wood", "tile"], [new ContinualStep("wood", 10, 2.5, 4096, [test])], metric, metric, metric, 9.5);
            long run = store.BeginRun(ResultSamples.Run());
            store.SaveContinual(run, continual);
            store.SaveContinual(run, continual with { TotalSeconds = 10.5 });

            Assert.True(store.TryFindContinual(continual.Spec.Hash, out var found));
            Assert.Equal(10.5, found!.TotalSeconds);
            Assert.Equal(JsonSerializer.Serialize(continual with { TotalSeconds = 10.5 }, RecordJson.Indented), JsonSerializer.Serialize(found, RecordJson.Indented));
            Assert.False(store.TryFindContinual((continual.Spec with { Seed = 4 }).Hash, out _));
            Assert.Equal(10.5, Assert.Single(store.LatestContinual()).TotalSeconds);
            Assert.True(double.IsNaN(found.ImageAuroc.Matrix[0][1]));
        }
    }

    [Fact]
    public void PostgresPasswordsInTheCommandLineAndConfigurationAreNotStored()
    {
        var spec = NewStore();
        using (var store = Open(spec))
            store.BeginRun(ResultSamples.Run() with
            {
                CommandLine = "vigil bench --results postgres://vigil:s3cr%40t@db.example:5432/results?sslmode=require",
                Configuration = """{"results":"postgresql://vigil:s3cr%40t@db.example/results","other":"postgres://h/db?password=hunter2&x=1"}""",
            });
        using var raw = RawConnection(spec);
        var (commandLine, configuration) = Rows(raw, "SELECT command_line, configuration FROM runs", r => (r.GetString(0), r.GetString(1))).Single();
        Assert.Equal("vigil bench --results postgres://vigil@db.example:5432/results?sslmode=require", commandLine);
        Assert.DoesNotContain("s3cr", configuration);
        Assert.DoesNotContain("hunter2", configuration);
        Assert.Contains("postgresql://vigil@db.example/results", configuration);
        JsonDocument.Parse(configuration).Dispose(); // still a JSON document
    }

    [Fact]
    public void ResumeLookupHitsOnlyTheSameSpecification()
    {
        var spec = NewStore();
        var saved = ResultSamples.Cell();
        using (var writer = Open(spec))
        {
            long run = writer.BeginRun(ResultSamples.Run()); // never finished, as when the process was killed
            writer.SaveCell(run, saved);
        }

        using var store = Open(spec);
        Assert.True(store.TryFindCell(saved.Spec.Hash, out var found));
        AssertSameCell(saved, found!);
        var s = saved.Spec;
        foreach (var other in new[]
                 {
                     s with { Model = "padim" }, s with { ModelOptions = """{"coreset":"0.01","layers":"layer2+layer3"}""" }, s with { Dataset = "visa" },
                     s with { DatasetSpec = "mvtec:/other" }, s with { Category = "tile" }, s with { SettingName = "fewshot-8" }, s with { Seed = 4 },
                     s with { TrainRatio = 0.7 }, s with { WeightsSha256 = "random:1" }, s with { Input = "resize 224x224" },
                     s with { Evaluation = new Vigil.Metrics.EvaluationOptions { ProFprLimit = 0.05 } }, s with { SkippedFiles = 1 },
                     s with { VigilVersion = "0.2.0" }, s with { ModelFileSha256 = "ab" },
                 })
        {
            Assert.False(store.TryFindCell(other.Hash, out var missed), other.ToString());
            Assert.Null(missed);
        }
        Assert.Equal(s.Hash, (s with { }).Hash); // equal specifications, equal identity

        // A later save of the same cell is the one found.
        long second = store.BeginRun(ResultSamples.Run());
        store.SaveCell(second, saved with { TrainCount = 99 });
        Assert.True(store.TryFindCell(saved.Spec.Hash, out var latest));
        Assert.Equal(99, latest!.TrainCount);
    }

    [Fact]
    public void LatestCellsTakesTheLastSaveOfEachSpecification()
    {
        using var store = Open(NewStore());
        var wood = ResultSamples.Cell();
        var tile = ResultSamples.Cell(wood.Spec with { Category = "tile" });
        var otherWood = ResultSamples.Cell(wood.Spec with { Input = "resize 224x224" });
        long first = store.BeginRun(ResultSamples.Run());
        store.SaveCell(first, wood);
        store.SaveCell(first, tile);
        store.FinishRun(first, RunStatus.Finished);
        long second = store.BeginRun(ResultSamples.Run("resnet18"));
        store.SaveCell(second, wood with { TrainCount = 20 });
        store.SaveCell(second, otherWood with { TrainCount = 30 });

        var latest = store.LatestCells();
        Assert.Equal([(first, tile.Spec.Hash, "tile", 12), (second, wood.Spec.Hash, "wood", 20), (second, otherWood.Spec.Hash, "wood", 30)],
            latest.Select(c => (c.RunId, c.Result.Spec.Hash, c.Result.Key.Category, c.Result.TrainCount)));
        Assert.Equal(["wide_resnet50_2", "resnet18"], store.Runs().Select(r => r.Backbone));
        Assert.Equal([RunStatus.Finished, RunStatus.Running], store.Runs().Select(r => r.Status));
    }

    [Fact]
    public void SaveCellOnceStoresEachSpecificationOnceEvenFromConcurrentStores()
    {
        var spec = NewStore();
        var wood = ResultSamples.Cell(images: 200);
        var tile = ResultSamples.Cell(wood.Spec with { Category = "tile" });
        const int Writers = 4;
        var stores = Enumerable.Range(0, Writers).Select(_ => Open(spec)).ToList();
        try
        {
            var runs = stores.Select(s => s.BeginRun(ResultSamples.Run())).ToList();
            using var start = new Barrier(Writers);
            var saved = Enumerable.Range(0, Writers).AsParallel().WithDegreeOfParallelism(Writers)
                .Select(i => { start.SignalAndWait(); return stores[i].SaveCellOnce(runs[i], wood with { TrainCount = i }); }).ToList();
            Assert.Equal(1, saved.Count(s => s));
            Assert.True(stores[0].SaveCellOnce(runs[0], tile)); // another specification is saved
            Assert.False(stores[1].SaveCellOnce(runs[1], tile));
            Assert.Equal([wood.Spec.Hash, tile.Spec.Hash], stores[0].LatestCells().Select(c => c.Result.Spec.Hash));
            Assert.Equal(1, runs.Sum(r => stores[0].Cells(r).Count(c => c.Spec.Hash == wood.Spec.Hash)));
        }
        finally
        {
            foreach (var store in stores) store.Dispose();
        }
    }

    [Fact]
    public void AFailureInTheMiddleOfSaveCellLeavesNoRows()
    {
        var spec = NewStore();
        using var store = Open(spec);
        long run = store.BeginRun(ResultSamples.Run());
        var good = ResultSamples.Cell();
        store.SaveCell(run, good, ResultSamples.Files);

        // The last artifact has no content: the database refuses that row after the cell, metric, timing, warning,
        // image and other artifact rows were written, so the whole save must be undone.
        var broken = ResultSamples.Cell(good.Spec with { Category = "tile" }, images: 50);
        var files = new Dictionary<string, byte[]>(ResultSamples.Files) { ["overlays/z.png"] = null! };
        Assert.ThrowsAny<DbException>(() => store.SaveCell(run, broken, files));

        using (var raw = RawConnection(spec))
            foreach (var (table, rows) in new[] { ("cells", 1L), ("metrics", (long)ResultSamples.Metrics.Count), ("timings", (long)ResultSamples.Timings.Count), ("warnings", 2L), ("images", 3L), ("artifacts", 1L) })
                Assert.Equal((table, rows), (table, Convert.ToInt64(Scalar(raw, $"SELECT COUNT(*) FROM {table}"))));
        Assert.False(store.TryFindCell(broken.Spec.Hash, out _));

        // The store goes on working: the repaired cell saves whole.
        store.SaveCell(run, broken, ResultSamples.Files);
        Assert.True(store.TryFindCell(broken.Spec.Hash, out var repaired));
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
        Assert.False(store.TryFindCell((cells[0].Spec with { Seed = whole }).Hash, out _));
        using (var raw = RawConnection(spec))
            foreach (var (table, rows) in new[] { ("cells", 1L), ("metrics", (long)ResultSamples.Metrics.Count), ("timings", (long)ResultSamples.Timings.Count), ("warnings", 2L), ("images", KilledWriter.ImagesPerCell) })
                Assert.Equal((table, whole * rows), (table, Convert.ToInt64(Scalar(raw, $"SELECT COUNT(*) FROM {table}"))));

        // The store takes writes again (no lock or half transaction left behind).
        store.SaveCell(run.Id, ResultSamples.Cell(cells[0].Spec with { Seed = whole }));
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
        Assert.Equal(JsonSerializer.Serialize(expected, RecordJson.Indented), JsonSerializer.Serialize(actual, RecordJson.Indented));

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
