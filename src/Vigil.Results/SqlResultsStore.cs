using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Vigil.Records;

namespace Vigil.Results;

/// <summary>
/// <see cref="IResultsStore"/> over one open ADO.NET connection (SQLite or PostgreSQL). Calls are serialised, so
/// cells finishing on several threads may share one store.
/// </summary>
internal sealed class SqlResultsStore : IResultsStore
{
    private static readonly JsonSerializerOptions Json = RecordJson.Compact;

    private readonly DbConnection connection;
    private readonly SqlDialect dialect;
    private readonly Lock gate = new();

    public string Location { get; }

    /// <summary>The open connection, for tests that look at the rows themselves.</summary>
    internal DbConnection Connection => connection;

    public SqlResultsStore(DbConnection connection, SqlDialect dialect, string location)
    {
        (this.connection, this.dialect, Location) = (connection, dialect, location);
        try
        {
            Guard(() =>
            {
                connection.Open();
                foreach (var statement in dialect.OnOpen) Execute(statement, null);
                PrepareSchema();
                return 0;
            });
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public long BeginRun(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try { JsonDocument.Parse(run.Configuration).Dispose(); }
        catch (JsonException e) { throw new ArgumentException($"The run's configuration must be a JSON document: {e.Message}", nameof(run), e); }
        var environment = run.Environment;
        return Guard(() => Convert.ToInt64(Scalar("""
            INSERT INTO runs (started, status, command_line, configuration, vigil_version, git_commit, backbone,
                weights_sha256, machine_name, operating_system, cores, memory_bytes, dotnet_version)
            VALUES (@started, @status, @command_line, @configuration, @vigil_version, @git_commit, @backbone,
                @weights_sha256, @machine_name, @operating_system, @cores, @memory_bytes, @dotnet_version)
            RETURNING id
            """, null,
            ("started", Timestamp(run.Started)), ("status", RunStatus.Running), ("command_line", PostgresAddress.RedactPasswords(run.CommandLine)),
            ("configuration", PostgresAddress.RedactPasswords(run.Configuration)), ("vigil_version", run.VigilVersion), ("git_commit", run.GitCommit),
            ("backbone", run.Backbone), ("weights_sha256", run.WeightsSha256), ("machine_name", environment.MachineName),
            ("operating_system", environment.OperatingSystem), ("cores", (long)environment.Cores),
            ("memory_bytes", environment.MemoryBytes), ("dotnet_version", environment.DotnetVersion)),
            CultureInfo.InvariantCulture));
    }

    public void SaveCell(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null) =>
        Save(runId, result, artifactFiles, onlyIfNew: false);

    public bool SaveCellOnce(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles = null) =>
        Save(runId, result, artifactFiles, onlyIfNew: true);

    /// <param name="onlyIfNew">Save nothing when a cell of this hash is stored already: checked and written in one
    /// transaction that holds the dialect's lock on the hash, so of two processes saving the same cell one saves it.</param>
    private bool Save(long runId, CellResult result, IReadOnlyDictionary<string, byte[]>? artifactFiles, bool onlyIfNew)
    {
        ArgumentNullException.ThrowIfNull(result);
        var configurationHash = result.Spec.Hash;
        var json = JsonSerializer.Serialize(result, Json);
        var metrics = NumericFields(JsonSerializer.SerializeToElement(result.Metrics, Json)).ToList();
        var timings = NumericFields(JsonSerializer.SerializeToElement(result.Efficiency, Json)).ToList();
        var key = result.Key;
        return Guard(() =>
        {
            using var transaction = connection.BeginTransaction(); // disposed without Commit = rolled back
            if (onlyIfNew)
            {
                if (dialect.LockCell != null) Scalar(dialect.LockCell, transaction, ("hash", configurationHash));
                if (Scalar("SELECT 1 FROM cells WHERE configuration_hash = @hash LIMIT 1", transaction, ("hash", configurationHash)) != null)
                    return false;
            }
            long cellId = Convert.ToInt64(Scalar("""
                INSERT INTO cells (run_id, model, dataset, category, setting, seed, configuration_hash, backbone,
                    random_weights, train_count, test_count, saved, result)
                VALUES (@run_id, @model, @dataset, @category, @setting, @seed, @configuration_hash, @backbone,
                    @random_weights, @train_count, @test_count, @saved, @result)
                RETURNING id
                """, transaction,
                ("run_id", runId), ("model", key.Model), ("dataset", key.Dataset), ("category", key.Category),
                ("setting", key.Setting), ("seed", (long)key.Seed), ("configuration_hash", configurationHash),
                ("backbone", result.Backbone), ("random_weights", result.RandomWeights),
                ("train_count", (long)result.TrainCount), ("test_count", (long)result.TestCount),
                ("saved", Timestamp(DateTimeOffset.UtcNow)), ("result", json)), CultureInfo.InvariantCulture);

            InsertRows(transaction, "metrics", ["cell_id", "name", "value"], metrics.Select(m => Row(cellId, m.Name, m.Value)));
            InsertRows(transaction, "timings", ["cell_id", "name", "value"], timings.Select(t => Row(cellId, t.Name, t.Value)));
            InsertRows(transaction, "warnings", ["cell_id", "position", "message"],
                result.Metrics.Warnings.Select((w, i) => Row(cellId, (long)i, w)));
            InsertRows(transaction, "images", ["cell_id", "position", "path", "anomalous", "defect_type", "score"],
                result.Images.Select((image, i) => Row(cellId, (long)i, image.Path, image.Anomalous, image.DefectType, (double)image.Score)));
            // One file per statement: overlay PNGs are large beside a row of numbers.
            foreach (var (name, content) in artifactFiles ?? new Dictionary<string, byte[]>())
                Execute("INSERT INTO artifacts (cell_id, name, content) VALUES (@cell_id, @name, @content)", transaction,
                    ("cell_id", cellId), ("name", name), ("content", content));
            transaction.Commit();
            return true;
        });
    }

    public bool TryFindCell(string specHash, out CellResult? result)
    {
        ArgumentException.ThrowIfNullOrEmpty(specHash);
        result = Guard(() => Query("SELECT result FROM cells WHERE configuration_hash = @hash ORDER BY id DESC LIMIT 1",
            r => Cell(r.GetString(0)), ("hash", specHash)).SingleOrDefault());
        return result != null;
    }

    public void SaveContinual(long runId, ContinualResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Guard(() => Execute("""
            INSERT INTO continual_runs (run_id, model, configuration_hash, saved, result)
            VALUES (@run_id, @model, @configuration_hash, @saved, @result)
            """, null, ("run_id", runId), ("model", result.Model), ("configuration_hash", result.Spec.Hash),
            ("saved", Timestamp(DateTimeOffset.UtcNow)), ("result", JsonSerializer.Serialize(result, Json))));
    }

    public bool TryFindContinual(string specHash, out ContinualResult? result)
    {
        ArgumentException.ThrowIfNullOrEmpty(specHash);
        result = Guard(() => Query("SELECT result FROM continual_runs WHERE configuration_hash = @hash ORDER BY id DESC LIMIT 1",
            r => Continual(r.GetString(0)), ("hash", specHash)).SingleOrDefault());
        return result != null;
    }

    public IReadOnlyList<ContinualResult> LatestContinual() => Guard(() => Query("""
        SELECT c.result FROM continual_runs c
        WHERE c.id = (SELECT MAX(l.id) FROM continual_runs l WHERE l.configuration_hash = c.configuration_hash)
        ORDER BY c.id
        """, r => Continual(r.GetString(0))));

    public byte[]? ReadArtifact(long cellId, string name) => Guard(() =>
        Query("SELECT content FROM artifacts WHERE cell_id = @cell_id AND name = @name", r => (byte[])r.GetValue(0),
            ("cell_id", cellId), ("name", name)).SingleOrDefault());

    public void FinishRun(long runId, string status)
    {
        ArgumentException.ThrowIfNullOrEmpty(status);
        int updated = Guard(() => Execute("UPDATE runs SET status = @status, finished = @finished WHERE id = @id", null,
            ("status", status), ("finished", Timestamp(DateTimeOffset.UtcNow)), ("id", runId)));
        if (updated != 1) throw new ArgumentException($"{Location} has no run {runId}.", nameof(runId));
    }

    public IReadOnlyList<RunRecord> Runs() => Guard(() => Query("""
        SELECT id, started, finished, status, command_line, configuration, vigil_version, git_commit, backbone,
            weights_sha256, machine_name, operating_system, cores, memory_bytes, dotnet_version
        FROM runs ORDER BY id
        """, r => new RunRecord(ParseTimestamp(r.GetString(1)), r.GetString(4), r.GetString(5), r.GetString(6),
            NullableString(r, 7), r.GetString(8), NullableString(r, 9),
            new RunEnvironment(r.GetString(10), r.GetString(11), checked((int)r.GetInt64(12)), r.GetInt64(13), r.GetString(14)))
        {
            Id = r.GetInt64(0),
            Finished = r.IsDBNull(2) ? null : ParseTimestamp(r.GetString(2)),
            Status = r.GetString(3),
        }));

    public IReadOnlyList<CellResult> Cells(long runId) => Guard(() =>
        Query("SELECT result FROM cells WHERE run_id = @run_id ORDER BY id", r => Cell(r.GetString(0)), ("run_id", runId)));

    public IReadOnlyList<StoredCell> LatestCells() => Guard(() => Query("""
        SELECT c.id, c.run_id, c.saved, c.result FROM cells c
        WHERE c.id = (SELECT MAX(l.id) FROM cells l WHERE l.configuration_hash = c.configuration_hash)
        ORDER BY c.id
        """, r => new StoredCell(r.GetInt64(0), r.GetInt64(1), ParseTimestamp(r.GetString(2)), Cell(r.GetString(3)))));

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }

    /// <summary>Creates the tables in an empty database, accepts a store of this schema version, refuses anything else.</summary>
    private void PrepareSchema()
    {
        using var transaction = connection.BeginTransaction();
        if (dialect.LockSchema != null) Scalar(dialect.LockSchema, transaction);
        var tables = Query(dialect.ListTables, r => r.GetString(0), transaction).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (tables.Contains("schema_version"))
        {
            var versions = Query("SELECT version, written_by FROM schema_version", r => (Version: r.GetInt64(0), WrittenBy: r.GetString(1)), transaction);
            if (versions.Count != 1)
                throw new VigilInputException($"Results store {Location} has {versions.Count} schema versions recorded instead of one: it is damaged. Give --results another store.");
            var (version, writtenBy) = versions[0];
            if (version != ResultsSchema.Version)
                throw new VigilInputException(
                    $"Results store {Location} has schema version {version} (written by Vigil {writtenBy}); this Vigil {VigilBuild.Version} " +
                    $"reads schema version {ResultsSchema.Version} only. " +
                    (version > ResultsSchema.Version ? "Use a newer Vigil with it" : "Use the Vigil that wrote it") + ", or give --results another store.");
        }
        else if (tables.Count > 0)
            throw new VigilInputException(
                $"Results store {Location} already holds tables ({string.Join(", ", tables.Order().Take(5))}) but no schema_version: " +
                "it is not a Vigil results store. Give --results a new file or an empty database.");
        else
        {
            foreach (var statement in ResultsSchema.CreateStatements(dialect.IdColumn, dialect.BytesColumn)) Execute(statement, transaction);
            Execute("INSERT INTO schema_version (version, written_by) VALUES (@version, @written_by)", transaction,
                ("version", (long)ResultsSchema.Version), ("written_by", VigilBuild.Version));
        }
        transaction.Commit();
    }

    /// <summary>The numbers in a JSON object, nested objects flattened to "Outer.Inner"; NaN becomes null (SQL has no NaN everywhere).</summary>
    private static IEnumerable<(string Name, double? Value)> NumericFields(JsonElement element, string prefix = "")
    {
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix + property.Name;
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Object)
                foreach (var nested in NumericFields(value, name + ".")) yield return nested;
            else if (value.ValueKind == JsonValueKind.Number)
                yield return (name, value.GetDouble());
            else if (value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity")
                yield return (name, value.GetString() == "NaN" ? null : double.Parse(value.GetString()!, CultureInfo.InvariantCulture));
        }
    }

    private static object?[] Row(params object?[] values) => values;

    /// <summary>Inserts rows many per statement: one round trip per row would make a large cell slow on a remote server.</summary>
    private void InsertRows(DbTransaction transaction, string table, string[] columns, IEnumerable<object?[]> rows)
    {
        const int RowsPerStatement = 50;
        foreach (var chunk in rows.Chunk(RowsPerStatement))
        {
            var values = chunk.Select((_, r) => "(" + string.Join(", ", columns.Select((_, c) => $"@p{r}_{c}")) + ")");
            var parameters = chunk.SelectMany((row, r) => row.Select((value, c) => ($"p{r}_{c}", value))).ToArray();
            Execute($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES {string.Join(", ", values)}", transaction, parameters);
        }
    }

    private int Execute(string sql, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        return command.ExecuteScalar();
    }

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters) =>
        Query(sql, read, null, parameters);

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    private DbCommand Command(string sql, DbTransaction? transaction, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters) command.Parameters.Add(Parameter(command, name, value));
        return command;
    }

    private static DbParameter Parameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name; // with its prefix: SQLite would otherwise try each prefix in turn
        parameter.Value = value ?? DBNull.Value;
        return parameter;
    }

    private T Guard<T>(Func<T> action)
    {
        lock (gate)
        {
            try { return action(); }
            catch (DbException e) when (dialect.Explain(e, Location) is { } explained) { throw explained; }
        }
    }

    private CellResult Cell(string json) =>
        JsonSerializer.Deserialize<CellResult>(json, Json) ?? throw new VigilInputException($"Results store {Location} holds an empty cell.");

    private ContinualResult Continual(string json) =>
        JsonSerializer.Deserialize<ContinualResult>(json, Json) ?? throw new VigilInputException($"Results store {Location} holds an empty continual run.");

    private static string Timestamp(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
