using System.Text.RegularExpressions;

namespace Vigil.Weights;

/// <summary>
/// An official weight file: the name it is cached under, the URL it is published at, and its SHA-256 when known.
/// torchvision file names end in "-&lt;hex&gt;.pth", the first hex digits of the file's SHA-256; <see cref="WeightStore"/>
/// verifies the full hash when given, else that prefix.
/// </summary>
public sealed partial record PretrainedWeights(string Backbone, string FileName, Uri Url, string? Sha256 = null)
{
    /// <summary>What the file's SHA-256 must start with: the full hash when known, else the prefix in the file name (8+ hex digits), else null.</summary>
    public string? Sha256Prefix => Sha256 ?? (HashInName().Match(FileName) is { Success: true } m ? m.Groups[1].Value : null);

    /// <summary>torchvision's published ImageNet weights (IMAGENET1K_V1) for a torchvision model name.</summary>
    public static PretrainedWeights TorchVision(string backbone, string fileName) =>
        new(backbone, fileName, new Uri("https://download.pytorch.org/models/" + fileName));

    // Same rule as torch.hub's check_hash: the hex run between the last '-' and the extension.
    [GeneratedRegex(@"-([a-f0-9]{8,64})\.[A-Za-z0-9]+$")]
    private static partial Regex HashInName();
}
