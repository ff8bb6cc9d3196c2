namespace Vigil.Weights;

/// <summary>Fetches a URL into a stream. Injectable so weight resolution is testable without a network.</summary>
public interface IWeightDownloader
{
    void Download(Uri url, Stream destination);
}

/// <summary>Downloads over HTTP(S) with <see cref="HttpClient"/>; file:// URLs are copied from disk.</summary>
public sealed class HttpWeightDownloader(HttpClient? client = null) : IWeightDownloader
{
    private static readonly Lazy<HttpClient> Shared = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(30) });

    public void Download(Uri url, Stream destination)
    {
        if (url.IsFile)
        {
            using var file = File.OpenRead(url.LocalPath);
            file.CopyTo(destination);
            return;
        }
        using var response = (client ?? Shared.Value).Send(new HttpRequestMessage(HttpMethod.Get, url), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        body.CopyTo(destination);
    }
}
