using Npgsql;
using Vigil.Results;

namespace Vigil.Tests.Results;

/// <summary>postgres:// URLs become the Npgsql settings they spell, and their password never reaches a message.</summary>
public class PostgresAddressTests
{
    [Fact]
    public void FullUrlWithEscapesAndSettings()
    {
        var (connectionString, location) = PostgresAddress.Parse("postgres://al%20ice:p%40ss%3Aw@db.example.org:6543/vigil%2Dresults?Timeout=7");
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal(("db.example.org", 6543, "al ice", "p@ss:w", "vigil-results", 7),
            (settings.Host, settings.Port, settings.Username, settings.Password, settings.Database, settings.Timeout));
        Assert.DoesNotContain("p%40ss", location);
        Assert.DoesNotContain("p@ss", location);
        Assert.Equal("postgres://al ice@db.example.org:6543/vigil-results?Timeout=7", location);
    }

    [Fact]
    public void UnixSocketFolderAndDefaults()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresAddress.Parse("postgresql://bench@/results?host=/var/run/postgresql").ConnectionString);
        Assert.Equal(("/var/run/postgresql", 5432, "bench", null, "results"),
            (settings.Host, settings.Port, settings.Username, settings.Password, settings.Database));

        var ipv6 = new NpgsqlConnectionStringBuilder(PostgresAddress.Parse("postgres://[::1]:5433/r").ConnectionString);
        Assert.Equal(("::1", 5433, "r"), (ipv6.Host, ipv6.Port, ipv6.Database));
    }

    [Theory]
    [InlineData("postgres://u:secret@host:5432/", "names no database")]
    [InlineData("postgres://u:secret@host:port/db", "port 'port'")]
    [InlineData("postgres://u:secret@host:70000/db", "port '70000'")]
    [InlineData("postgres://u:secret@/db", "names no server")]
    [InlineData("postgres://u:secret@host/db?colour=blue", "'colour=blue'")]
    [InlineData("postgres://u@host/db?password=secret&colour=blue", "postgres://u@host/db?password=…&colour=blue")]
    public void BadUrlsSayWhatIsWrongWithoutThePassword(string url, string expected)
    {
        var error = Assert.Throws<VigilInputException>(() => PostgresAddress.Parse(url));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }
}
