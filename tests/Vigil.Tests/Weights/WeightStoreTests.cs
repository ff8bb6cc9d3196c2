using System.Net;
using System.Security.Cryptography;
using Vigil.Weights;

namespace Vigil.Tests.Weights;

public sealed class WeightStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"vigil-store-{Guid.NewGuid():N}");
    private readonly byte[] _content = "pretend these are weights"u8.ToArray();
    private readonly PretrainedWeights _weights;

    public WeightStoreTests()
    {
        Directory.CreateDirectory(_root);
        var prefix = Convert.ToHexStringLower(SHA256.HashData(_content))[..8];
        _weights = new PretrainedWeights("fake", $"fake-{prefix}.pth", new Uri("https://example.invalid/models/fake.pth"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private string Place(string dir, byte[]? content = null)
    {
        var path = Path.Combine(dir, _weights.FileName);
        File.WriteAllBytes(path, content ?? _content);
        return path;
    }

    /// <summary>Serves fixed bytes for any request and counts the requests.</summary>
    private sealed class InMemoryHandler(byte[] body, HttpStatusCode status = HttpStatusCode.OK) : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            return new HttpResponseMessage(status) { Content = new ByteArrayContent(body) };
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }

    [Fact]
    public void TorchVisionFileNamesCarryTheirHashPrefix()
    {
        Assert.Equal("f37072fd", PretrainedWeights.TorchVision("resnet18", "resnet18-f37072fd.pth").Sha256Prefix);
        Assert.Equal("95faca4d", Vigil.Backbones.TorchBackbones.Weights("wide_resnet50_2").Sha256Prefix);
        Assert.Null(new PretrainedWeights("x", "model.pth", new Uri("https://example.invalid/model.pth")).Sha256Prefix);
    }

    [Fact]
    public void ExplicitPathWinsOverCaches()
    {
        var cache = Dir("cache");
        Place(cache);
        var explicitFile = Path.Combine(Dir("mine"), "my-weights.pth");
        File.WriteAllBytes(explicitFile, [1, 2, 3]);
        Assert.Equal(explicitFile, new WeightStore(cache, null, []).Resolve(_weights, explicitFile));
    }

    [Fact]
    public void MissingExplicitPathIsAnErrorNotAFallback()
    {
        var cache = Dir("cache");
        Place(cache);
        var missing = Path.Combine(_root, "nope.pth");
        var e = Assert.Throws<VigilInputException>(() => new WeightStore(cache, null, []).Resolve(_weights, missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void CacheDirectoryComesBeforeTorchHubDirectory()
    {
        string cache = Dir("cache"), hub = Dir("hub");
        var inHub = Place(hub);
        var store = new WeightStore(cache, null, [hub]);
        Assert.Equal(inHub, store.Resolve(_weights));
        var inCache = Place(cache);
        Assert.Equal(inCache, store.Resolve(_weights));
    }

    [Fact]
    public void LocalFileBeatsDownload()
    {
        var cache = Dir("cache");
        var local = Place(cache);
        var handler = new InMemoryHandler(_content);
        Assert.Equal(local, new WeightStore(cache, new HttpWeightDownloader(new HttpClient(handler)), []).Resolve(_weights));
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public void DownloadIsVerifiedAndCachedOnce()
    {
        var cache = Path.Combine(_root, "new-cache");
        var handler = new InMemoryHandler(_content);
        var store = new WeightStore(cache, new HttpWeightDownloader(new HttpClient(handler)), []);
        var path = store.Resolve(_weights);
        Assert.Equal(Path.Combine(cache, _weights.FileName), path);
        Assert.Equal(_content, File.ReadAllBytes(path));
        Assert.Equal(path, store.Resolve(_weights));
        Assert.Equal([_weights.Url], handler.Requests);
    }

    [Fact]
    public void DownloadFromFileUrlWorks()
    {
        var published = Path.Combine(Dir("server"), "published.pth");
        File.WriteAllBytes(published, _content);
        var weights = _weights with { Url = new Uri(published) };
        var cache = Dir("cache");
        var path = new WeightStore(cache, new HttpWeightDownloader(), []).Resolve(weights);
        Assert.Equal(_content, File.ReadAllBytes(path));
    }

    [Fact]
    public void CorruptDownloadIsRejectedAndNotCached()
    {
        var cache = Dir("cache");
        var store = new WeightStore(cache, new HttpWeightDownloader(new HttpClient(new InMemoryHandler("tampered"u8.ToArray()))), []);
        var e = Assert.Throws<VigilInputException>(() => store.Resolve(_weights));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(_weights.Sha256Prefix!, e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void CachedFileWithWrongHashIsRejected()
    {
        var cache = Dir("cache");
        var bad = Place(cache, "wrong bytes"u8.ToArray());
        var e = Assert.Throws<VigilInputException>(() => new WeightStore(cache, null, []).Resolve(_weights));
        Assert.Contains(bad, e.Message);
    }

    [Fact]
    public void FailedDownloadSaysWhatFailedAndWhereToPlaceTheFile()
    {
        var cache = Dir("cache");
        var store = new WeightStore(cache, new HttpWeightDownloader(new HttpClient(new InMemoryHandler([], HttpStatusCode.NotFound))), []);
        var e = Assert.Throws<VigilInputException>(() => store.Resolve(_weights));
        Assert.Contains($"downloading {_weights.Url} failed", e.Message);
        Assert.Contains($"place it as {Path.Combine(cache, _weights.FileName)}", e.Message);
    }

    [Fact]
    public void OfflineErrorNamesFileUrlAndFolders()
    {
        string cache = Dir("cache"), hub = Dir("hub");
        var e = Assert.Throws<VigilInputException>(() => new WeightStore(cache, null, [hub]).Resolve(_weights));
        Assert.Equal($"No weights for fake: {_weights.FileName} is not in {cache} or {hub}, and no downloader is configured (offline). " +
            $"Download {_weights.Url} and place it as {Path.Combine(cache, _weights.FileName)} (or set VIGIL_WEIGHTS to its folder), " +
            "pass the file explicitly, or ask for random weights with --weights random.", e.Message);
    }

    [Fact]
    public void VigilWeightsVariableOverridesTheDefaultCache()
    {
        var saved = Environment.GetEnvironmentVariable("VIGIL_WEIGHTS");
        try
        {
            Environment.SetEnvironmentVariable("VIGIL_WEIGHTS", _root);
            Assert.Equal(_root, WeightStore.DefaultCacheDirectory);
            Assert.Equal(_root, new WeightStore().CacheDirectory);
            Environment.SetEnvironmentVariable("VIGIL_WEIGHTS", null);
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.Equal(Path.Combine(home, ".cache", "vigil", "weights"), WeightStore.DefaultCacheDirectory);
        }
        finally { Environment.SetEnvironmentVariable("VIGIL_WEIGHTS", saved); }
    }

    [Fact]
    public void WeightSourceParsesCommandLineValues()
    {
        Assert.Equal(WeightSource.Pretrained, WeightSource.Parse("pretrained"));
        Assert.Equal(WeightSource.Random(0), WeightSource.Parse("random"));
        Assert.Equal(WeightSource.Random(42), WeightSource.Parse("random:42"));
        Assert.Equal(WeightSource.FromFile("/x/w.pth"), WeightSource.Parse("/x/w.pth"));
        Assert.Throws<VigilInputException>(() => WeightSource.Parse("random:abc"));
    }
}
