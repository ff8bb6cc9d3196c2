using System.Security.Cryptography;

namespace Vigil.Weights;

/// <summary>
/// Finds a backbone's pretrained weight file: an explicit path first; else the Vigil cache
/// ($VIGIL_WEIGHTS, or ~/.cache/vigil/weights) and PyTorch's hub cache ($TORCH_HOME/hub/checkpoints, or
/// ~/.cache/torch/hub/checkpoints), so weights torchvision already downloaded are reused; else, when a downloader
/// is configured, the official URL (downloaded into the Vigil cache). Files whose name carries a SHA-256 prefix are
/// verified against it wherever they were found. Without any of these, the error names the file, the URL and
/// the folder to put it in.
/// </summary>
public sealed class WeightStore
{
    /// <param name="cacheDirectory">Where downloads go and files are looked for first; defaults to <see cref="DefaultCacheDirectory"/>.</param>
    /// <param name="downloader">Fetches missing files; null means offline (no download is tried).</param>
    /// <param name="extraSearchDirectories">Further folders to look in; defaults to PyTorch's hub cache.</param>
    public WeightStore(string? cacheDirectory = null, IWeightDownloader? downloader = null, IReadOnlyList<string>? extraSearchDirectories = null)
    {
        CacheDirectory = cacheDirectory ?? DefaultCacheDirectory;
        Downloader = downloader;
        SearchDirectories = [CacheDirectory, .. extraSearchDirectories ?? [TorchHubDirectory]];
    }

    /// <summary>A store with the default cache folders that downloads over HTTP when the machine has a network.</summary>
    public static WeightStore Default => new(downloader: new HttpWeightDownloader());

    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable("VIGIL_WEIGHTS") is { Length: > 0 } dir ? dir : Path.Combine(VigilPaths.CacheRoot, "weights");

    public static string TorchHubDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("TORCH_HOME") is { Length: > 0 } home ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "torch"), "hub", "checkpoints");

    public string CacheDirectory { get; }

    public IWeightDownloader? Downloader { get; }

    /// <summary>Folders searched, in order, for a pretrained file.</summary>
    public IReadOnlyList<string> SearchDirectories { get; }

    /// <summary>Returns the path of the weight file for <paramref name="weights"/> (explicit path first), downloading it if need be.</summary>
    public string Resolve(PretrainedWeights weights, string? explicitPath = null)
    {
        if (explicitPath != null)
            return File.Exists(explicitPath) ? explicitPath
                : throw new VigilInputException($"Weight file {explicitPath} for {weights.Backbone} does not exist. " +
                    $"Give an existing .pth/.pt/.safetensors file, or omit the path to use {weights.FileName} from {CacheDirectory}.");

        foreach (var dir in SearchDirectories)
        {
            var candidate = Path.Combine(dir, weights.FileName);
            if (!File.Exists(candidate)) continue;
            Verify(weights, candidate, $"Delete or replace {candidate} with the file from {weights.Url}.");
            return candidate;
        }

        string failure = "no downloader is configured (offline)";
        if (Downloader != null)
        {
            try
            {
                return Download(weights);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or UnauthorizedAccessException)
            {
                failure = $"downloading {weights.Url} failed: {e.Message}";
            }
        }
        throw new VigilInputException($"No weights for {weights.Backbone}: {weights.FileName} is not in {string.Join(" or ", SearchDirectories)}, and {failure}. " +
            $"Download {weights.Url} and place it as {Path.Combine(CacheDirectory, weights.FileName)} (or set VIGIL_WEIGHTS to its folder), " +
            "pass the file explicitly, or ask for random weights with --weights random.");
    }

    private string Download(PretrainedWeights weights)
    {
        Directory.CreateDirectory(CacheDirectory);
        var target = Path.Combine(CacheDirectory, weights.FileName);
        // Download beside the target and move into place only once verified, so the cache never holds a partial file.
        var partial = target + $".{Environment.ProcessId}.partial";
        try
        {
            using (var file = File.Create(partial)) Downloader!.Download(weights.Url, file);
            Verify(weights, partial, "The download is corrupt or the published file changed; try again, or place a verified copy by hand.");
            File.Move(partial, target, overwrite: true);
            return target;
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
    }

    /// <summary>Checks the file's SHA-256 starts with the prefix in its published name (torch.hub's check_hash rule).</summary>
    private static void Verify(PretrainedWeights weights, string path, string advice)
    {
        if (weights.Sha256Prefix is not { } prefix) return;
        string digest;
        using (var file = File.OpenRead(path)) digest = Convert.ToHexStringLower(SHA256.HashData(file));
        if (!digest.StartsWith(prefix, StringComparison.Ordinal))
            throw new VigilInputException($"{path} has SHA-256 {digest}, but {weights.FileName} must start with {prefix}. {advice}");
    }
}
