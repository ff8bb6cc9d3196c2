namespace Vigil.Results;

/// <summary>
/// The tables of a results store, one text for SQLite and PostgreSQL. A cell row keeps the whole
/// <see cref="Records.CellResult"/> as JSON (what the store reads back, so fields added to it later need no new
/// column) beside queryable columns; its metrics and timings are (name, value) rows named after the JSON fields
/// ("ImageAuroc", "ImageF1Max.Threshold", "FitSeconds"), a NULL value being an undefined (NaN) metric.
/// Timestamps are ISO 8601 UTC text, so they sort chronologically.
/// </summary>
internal static class ResultsSchema
{
    /// <summary>Raised whenever a table or column changes meaning; a store of another version is refused, not guessed at.</summary>
    public const int Version = 2;

    public static readonly string[] Tables = ["schema_version", "runs", "cells", "metrics", "timings", "warnings", "images", "artifacts", "continual_runs"];

    /// <param name="idColumn">An auto-numbered 64-bit primary key column in the dialect at hand.</param>
    /// <param name="bytesColumn">The dialect's type for a byte string (BLOB, BYTEA).</param>
    public static string[] CreateStatements(string idColumn, string bytesColumn) =>
    [
        "CREATE TABLE schema_version (version BIGINT NOT NULL, written_by TEXT NOT NULL)",
        $"""
        CREATE TABLE runs (
            id {idColumn},
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL,
            command_line TEXT NOT NULL,
            configuration TEXT NOT NULL,
            vigil_version TEXT NOT NULL,
            git_commit TEXT,
            backbone TEXT NOT NULL,
            weights_sha256 TEXT,
            machine_name TEXT NOT NULL,
            operating_system TEXT NOT NULL,
            cores BIGINT NOT NULL,
            memory_bytes BIGINT NOT NULL,
            dotnet_version TEXT NOT NULL)
        """,
        $"""
        CREATE TABLE cells (
            id {idColumn},
            run_id BIGINT NOT NULL REFERENCES runs (id),
            model TEXT NOT NULL,
            dataset TEXT NOT NULL,
            category TEXT NOT NULL,
            setting TEXT NOT NULL,
            seed BIGINT NOT NULL,
            configuration_hash TEXT NOT NULL,
            backbone TEXT NOT NULL,
            random_weights BOOLEAN NOT NULL,
            train_count BIGINT NOT NULL,
            test_count BIGINT NOT NULL,
            saved TEXT NOT NULL,
            result TEXT NOT NULL)
        """,
        "CREATE INDEX cells_by_key ON cells (model, dataset, category, setting, seed, configuration_hash)",
        "CREATE INDEX cells_by_run ON cells (run_id)",
        "CREATE TABLE metrics (cell_id BIGINT NOT NULL REFERENCES cells (id), name TEXT NOT NULL, value DOUBLE PRECISION, PRIMARY KEY (cell_id, name))",
        "CREATE TABLE timings (cell_id BIGINT NOT NULL REFERENCES cells (id), name TEXT NOT NULL, value DOUBLE PRECISION, PRIMARY KEY (cell_id, name))",
        "CREATE TABLE warnings (cell_id BIGINT NOT NULL REFERENCES cells (id), position BIGINT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (cell_id, position))",
        """
        CREATE TABLE images (
            cell_id BIGINT NOT NULL REFERENCES cells (id),
            position BIGINT NOT NULL,
            path TEXT NOT NULL,
            anomalous BOOLEAN NOT NULL,
            defect_type TEXT NOT NULL,
            score DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (cell_id, position))
        """,
        // A cell's overlay PNGs (named as its artifact index names them), so one store holds a whole run wherever it ran.
        $"CREATE TABLE artifacts (cell_id BIGINT NOT NULL REFERENCES cells (id), name TEXT NOT NULL, content {bytesColumn} NOT NULL, PRIMARY KEY (cell_id, name))",
        $"""
        CREATE TABLE continual_runs (
            id {idColumn},
            run_id BIGINT NOT NULL REFERENCES runs (id),
            model TEXT NOT NULL,
            configuration_hash TEXT NOT NULL,
            saved TEXT NOT NULL,
            result TEXT NOT NULL)
        """,
        "CREATE INDEX continual_by_hash ON continual_runs (configuration_hash)",
    ];
}
