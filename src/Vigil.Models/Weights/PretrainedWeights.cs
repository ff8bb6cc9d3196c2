using System.Text.RegularExpressions;

namespace Vigil.Weights;

/// <summary>
/// An official weight file: the name it is cached under and the URL it is published at. torchvision file names end
/// in "-&lt;hex&gt;.pth", the first hex digits of the file's SHA-256, which <see cref="WeightStore"/> verifies.
/// </summary>
public sealed partial record PretrainedWeights(string Backbone, string FileName, Uri Url)
{
    /// <summary>The SHA-256 prefix in the file name (8+ hex digits), or null when the name carries none.</summary>
    public string? Sha256Prefix => HashInName().Match(FileName) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>torchvision's published ImageNet weights (IMAGENET1K_V1) for a torchvision model name.</summary>
    public static PretrainedWeights TorchVision(string backbone, string fileName) =>
        new(backbone, fileName, new Uri("https://download.pytorch.org/models/" + fileName));

    // Same rule as torch.hub's check_hash: the hex run between the last '-' and the extension.
    [GeneratedRegex(@"-([a-f0-9]{8,64})\.[A-Za-z0-9]+$")]
    private static partial Regex HashInName();
}
