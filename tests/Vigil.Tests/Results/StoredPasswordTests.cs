using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>
/// A results store is shared: the run record keeps the command line and configuration, but never the password of a
/// PostgreSQL address in them (issue 12, defect 2).
/// </summary>
public class StoredPasswordTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-passwords-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("postgres://bob:s3cret@db.example.org:5432/results", "postgres://bob@db.example.org:5432/results")]
    [InlineData("postgresql://bob:s3c@ret@db/results", "postgresql://bob@db/results")] // an unescaped '@' in the password, as Parse accepts it
    [InlineData("postgres://bob@db/results?sslmode=require&password=s3cret", "postgres://bob@db/results?sslmode=require&password=…")]
    [InlineData("POSTGRES://bob:s3cret@db/results?Password=s3cret", "POSTGRES://bob@db/results?Password=…")]
    public void TheRunRecordKeepsTheAddressWithoutItsPassword(string url, string kept)
    {
        var commandLine = $"vigil bench -d mtd --results {url} -o out";
        var configuration = $$"""{"results":"{{url}}","models":["padim"]}""";
        using (var store = ResultsStore.Open(null, _dir))
            store.BeginRun(RunRecord.StartingNow(commandLine, configuration, "resnet18", null));

        using var reopened = ResultsStore.Open(null, _dir);
        var run = Assert.Single(reopened.Runs());
        Assert.Equal($"vigil bench -d mtd --results {kept} -o out", run.CommandLine);
        Assert.Equal($$"""{"results":"{{kept}}","models":["padim"]}""", run.Configuration);
        Assert.DoesNotContain("s3c", File.ReadAllText(Path.Combine(_dir, ResultsStore.DefaultFileName), System.Text.Encoding.Latin1));
    }
}
