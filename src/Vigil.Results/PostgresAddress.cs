using System.Text.RegularExpressions;
using Npgsql;

namespace Vigil.Results;

/// <summary>
/// Turns a libpq-style URL, <c>postgres[ql]://[USER[:PASSWORD]@][HOST][:PORT]/DATABASE[?KEY=VALUE&amp;…]</c>, into an
/// Npgsql connection string. <c>?host=/folder</c> reaches the server through its Unix socket in that folder; other
/// keys are Npgsql connection string keywords (e.g. <c>sslmode=require</c>).
/// </summary>
public static partial class PostgresAddress
{
    /// <summary>
    /// <paramref name="text"/> (a command line, a configuration) with the password of every PostgreSQL URL in it
    /// removed: a results store is shared, and what it records must not hand out the password of its database.
    /// </summary>
    public static string RedactPasswords(string text) =>
        QueryPassword().Replace(UserPassword().Replace(text, "${scheme}${user}@"), "${key}…");

    // The password runs to the last '@' of the authority, as Parse reads it, so an unescaped '@' in it is removed too.
    [GeneratedRegex(@"(?<scheme>postgres(?:ql)?://)(?<user>[^:/@\s""]*):[^/\s""]*@", RegexOptions.IgnoreCase)]
    private static partial Regex UserPassword();

    [GeneratedRegex(@"(?<key>[?&]password=)[^&\s""]*", RegexOptions.IgnoreCase)]
    private static partial Regex QueryPassword();

    /// <returns>The connection string, and the URL without its password for messages.</returns>
    public static (string ConnectionString, string Location) Parse(string url)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        string query = "";
        if (rest.IndexOf('?') is var q and >= 0) (rest, query) = (rest[..q], rest[(q + 1)..]);
        string authority = rest, database = "";
        if (rest.IndexOf('/') is var slash and >= 0) (authority, database) = (rest[..slash], Uri.UnescapeDataString(rest[(slash + 1)..]));

        string? user = null, password = null;
        if (authority.LastIndexOf('@') is var at and >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            if (userInfo.IndexOf(':') is var colon and >= 0) (user, password) = (userInfo[..colon], Uri.UnescapeDataString(userInfo[(colon + 1)..]));
            else user = userInfo;
            user = Uri.UnescapeDataString(user);
        }

        var shownQuery = string.Join("&", query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=…" : pair));
        var location = $"{url[..(url.IndexOf("://", StringComparison.Ordinal) + 3)]}{(user != null ? user + "@" : "")}{authority}/{database}{(shownQuery.Length > 0 ? "?" + shownQuery : "")}";
        var builder = new NpgsqlConnectionStringBuilder { Pooling = false }; // one connection per store; a pooled one would linger
        var (host, port) = SplitHostPort(authority, location);
        if (host.Length > 0) builder.Host = host;
        if (port != null) builder.Port = port.Value;
        if (user != null) builder.Username = user;
        if (password != null) builder.Password = password;
        builder.Database = database;

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = Uri.UnescapeDataString(equals < 0 ? "" : pair[(equals + 1)..]);
            try { builder[key] = value; }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new VigilInputException($"Results store {location}: '{key}={value}' is not a connection setting Npgsql knows ({e.Message}). Remove it or fix it.");
            }
        }
        if (string.IsNullOrEmpty(builder.Host))
            throw new VigilInputException($"Results store {location} names no server. Give postgres://USER@HOST:PORT/DATABASE, or ?host=/socket/folder for a Unix socket.");
        if (database.Length == 0)
            throw new VigilInputException($"Results store {location} names no database. Add it after the server: postgres://USER@HOST:PORT/DATABASE.");
        return (builder.ConnectionString, location);
    }

    private static (string Host, int? Port) SplitHostPort(string authority, string location)
    {
        string host = authority, portText = "";
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0) throw new VigilInputException($"Results store {location}: the IPv6 address lacks its closing ']'.");
            host = authority[1..close];
            if (authority.Length > close + 1 && authority[close + 1] == ':') portText = authority[(close + 2)..];
        }
        else if (authority.LastIndexOf(':') is var colon and >= 0) (host, portText) = (authority[..colon], authority[(colon + 1)..]);
        if (portText.Length == 0) return (host, null);
        if (!int.TryParse(portText, out int port) || port is < 1 or > 65535)
            throw new VigilInputException($"Results store {location}: port '{portText}' is not a number from 1 to 65535.");
        return (host, port);
    }
}
