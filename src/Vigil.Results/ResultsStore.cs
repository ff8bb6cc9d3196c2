using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Vigil.Results;

/// <summary>Opens the results store a <c>--results</c> value names.</summary>
public static partial class ResultsStore
{
    /// <summary>The SQLite file under the output directory that holds results when no store is named.</summary>
    public const string DefaultFileName = "results.sqlite";

    public const string AcceptedForms =
        "nothing (the SQLite file <output>/" + DefaultFileName + "), a file path or sqlite:PATH (a SQLite file), " +
        "or postgres://USER:PASSWORD@HOST:PORT/DATABASE or postgresql://… (PostgreSQL; add ?host=/socket/folder for a Unix socket)";

    /// <summary>
    /// Opens (creating if needed) the store <paramref name="spec"/> names: null or empty for
    /// <c>&lt;outputDirectory&gt;/results.sqlite</c>, a path or <c>sqlite:PATH</c> for a SQLite file, or a
    /// <c>postgres://</c> / <c>postgresql://</c> URL for a PostgreSQL database shared between machines.
    /// </summary>
    /// <exception cref="VigilInputException">The spec is not understood, or the store is unreachable, damaged, not a
    /// Vigil store, or of a schema version this Vigil does not read.</exception>
    public static IResultsStore Open(string? spec, string outputDirectory)
    {
        if (string.IsNullOrWhiteSpace(spec)) return OpenSqlite(Path.Combine(outputDirectory, DefaultFileName));
        spec = spec.Trim();
        if (spec.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            var (connectionString, location) = PostgresAddress.Parse(spec);
            return new SqlResultsStore(new NpgsqlConnection(connectionString), SqlDialect.Postgres, location);
        }
        if (spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = spec["sqlite:".Length..];
            return OpenSqlite(path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path); // sqlite:///abs and sqlite://rel too
        }
        if (Scheme().Match(spec) is { Success: true } scheme)
            throw new VigilInputException($"Results store '{scheme.Value}…' is not a kind Vigil knows. Give {AcceptedForms}.");
        return OpenSqlite(spec);
    }

    private static SqlResultsStore OpenSqlite(string path)
    {
        if (path.Length == 0) throw new VigilInputException($"The results store 'sqlite:' names no file. Give {AcceptedForms}.");
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new VigilInputException($"Results store {full} is a folder. Give a file path, e.g. {Path.Combine(full, DefaultFileName)}.");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // a pooled connection would keep the file open after Dispose
            DefaultTimeout = 60, // seconds to wait for another writer of the same file
        }.ToString();
        return new SqlResultsStore(new SqliteConnection(connectionString), SqlDialect.Sqlite, full);
    }

    /// <summary>A URL scheme of two letters or more (so a Windows drive letter stays a path).</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]+:")]
    private static partial Regex Scheme();
}
