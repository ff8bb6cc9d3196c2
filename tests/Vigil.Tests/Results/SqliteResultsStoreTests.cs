using System.Data.Common;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>The store contract on SQLite files, plus what only a file can do wrong.</summary>
public class SqliteResultsStoreTests : ResultsStoreContract
{
    private int stores;

    protected override string NewStore() => Path.Combine(Output, $"store-{++stores}.sqlite");

    protected override DbConnection RawConnection(string spec)
    {
        var connection = new SqliteConnection($"Data Source={spec};Pooling=False");
        connection.Open();
        return connection;
    }

    protected override void AssertAnOpenTransactionWasCutOff(string spec)
    {
        // Rows of the stalled cell (image numbers past those of the whole cells) were spilled, uncommitted, into the
        // write-ahead log: the next open must discard them.
        var wal = Encoding.Latin1.GetString(File.ReadAllBytes(spec + "-wal"));
        var imageNumbers = Regex.Matches(wal, @"/(\d{4,5})\.png").Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(-1);
        Assert.True(imageNumbers.Max() >= KilledWriter.ImagesPerCell, $"the write-ahead log ({wal.Length} bytes) holds no row of the stalled cell");
    }

    [Fact]
    public void NoSpecMeansResultsSqliteInTheOutputFolderInWalMode()
    {
        var output = Path.Combine(Output, "out", "nested"); // created on demand
        using (var store = ResultsStore.Open(null, output))
            Assert.Equal(Path.Combine(output, "results.sqlite"), store.Location);
        using (var store = ResultsStore.Open("", output)) store.BeginRun(ResultSamples.Run());
        using var raw = RawConnection(Path.Combine(output, "results.sqlite"));
        Assert.Equal("wal", Scalar(raw, "PRAGMA journal_mode"));
        Assert.Equal(1L, Scalar(raw, "SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public void SqlitePrefixAndPlainPathNameTheSameFile()
    {
        var file = Path.Combine(Output, "shared.sqlite");
        using (var store = ResultsStore.Open($"sqlite:{file}", "/nonexistent-output"))
            store.BeginRun(ResultSamples.Run());
        using (var store = ResultsStore.Open($"sqlite://{file}", "/nonexistent-output"))
            Assert.Single(store.Runs());
        using (var store = ResultsStore.Open(file, "/nonexistent-output"))
        {
            Assert.Equal(file, store.Location);
            Assert.Single(store.Runs());
        }
    }

    [Fact]
    public void AFileThatIsNotADatabaseIsNamedInTheError()
    {
        var file = Path.Combine(Output, "notes.sqlite");
        File.WriteAllText(file, string.Concat(Enumerable.Repeat("These are my notes, not a database.\n", 200)));
        var error = Assert.Throws<VigilInputException>(() => ResultsStore.Open(file, Output));
        Assert.Contains(file, error.Message);
        Assert.Contains("not a readable SQLite database", error.Message);
        Assert.StartsWith("These are my notes", File.ReadAllText(file)); // left as it was
    }

    [Fact]
    public void ADamagedStoreIsNamedInTheError()
    {
        var file = NewStore();
        using (var store = ResultsStore.Open(file, Output))
        {
            long run = store.BeginRun(ResultSamples.Run());
            store.SaveCell(run, ResultSamples.Cell(images: 500));
        }
        // Keep the 100-byte header (so it still looks like SQLite) and overwrite every page after it.
        var bytes = File.ReadAllBytes(file);
        Assert.True(bytes.Length > 8192, $"{bytes.Length} bytes");
        Array.Fill(bytes, (byte)0xA5, 100, bytes.Length - 100);
        File.WriteAllBytes(file, bytes);

        var error = Assert.Throws<VigilInputException>(() =>
        {
            using var store = ResultsStore.Open(file, Output);
            store.Cells(1);
        });
        Assert.Contains(file, error.Message);
        Assert.Contains("not a readable SQLite database", error.Message);
    }

    [Fact]
    public void AFullDiskLeavesNoPartOfTheCellAndSaysSo()
    {
        var file = NewStore();
        using var store = ResultsStore.Open(file, Output);
        long run = store.BeginRun(ResultSamples.Run());
        store.SaveCell(run, ResultSamples.Cell());

        // SQLite reports a file that may not grow past max_page_count exactly as a full disk (SQLITE_FULL).
        var connection = ((SqlResultsStore)store).Connection;
        long pages = Convert.ToInt64(Scalar(connection, "PRAGMA page_count"));
        Scalar(connection, $"PRAGMA max_page_count = {pages + 4}");
        var big = ResultSamples.Cell(ResultSamples.Spec with { Category = "tile" }, images: 5000);
        var error = Assert.Throws<VigilInputException>(() => store.SaveCell(run, big));
        Assert.Contains(file, error.Message);
        Assert.Contains("disk is full", error.Message);

        foreach (var (table, rows) in new[] { ("cells", 1L), ("metrics", 10L), ("images", 3L) })
            Assert.Equal((table, rows), (table, Convert.ToInt64(Scalar(connection, $"SELECT COUNT(*) FROM {table}"))));
        Scalar(connection, "PRAGMA max_page_count = 1073741823"); // space freed: the same cell saves whole
        store.SaveCell(run, big);
        Assert.Equal(5000, Assert.Single(store.Cells(run), c => c.Key.Category == "tile").Images.Count);
    }

    [Fact]
    public void AFolderIsNotAStore()
    {
        var error = Assert.Throws<VigilInputException>(() => ResultsStore.Open(Output, Output));
        Assert.Contains(Output, error.Message);
        Assert.Contains("is a folder", error.Message);
    }

    [Theory]
    [InlineData("mysql://bob:secret@db/results", "mysql:")]
    [InlineData("http://example/results", "http:")]
    [InlineData("redis:results", "redis:")]
    public void UnknownSchemesListTheAcceptedForms(string spec, string scheme)
    {
        var error = Assert.Throws<VigilInputException>(() => ResultsStore.Open(spec, Output));
        Assert.Contains($"'{scheme}…'", error.Message);
        Assert.Contains("sqlite:PATH", error.Message);
        Assert.Contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE", error.Message);
        Assert.DoesNotContain("secret", error.Message);
        Assert.Empty(Directory.GetFiles(Output)); // nothing created
    }
}
