namespace Vigil.Weights;

/// <summary>How a backbone gets its weights: from the named pretrained file, an explicit file, or (only on request) at random.</summary>
public enum WeightSourceKind { Pretrained, File, Random }

/// <summary>
/// Where a backbone's weights come from. Random weights are never a fallback: they must be asked for
/// (<c>--weights random</c>), and extractors built with them report IsRandomlyInitialised.
/// </summary>
public sealed record WeightSource
{
    private WeightSource(WeightSourceKind kind, string? path, long seed) => (Kind, Path, Seed) = (kind, path, seed);

    public WeightSourceKind Kind { get; }

    /// <summary>The weight file, for <see cref="WeightSourceKind.File"/>.</summary>
    public string? Path { get; }

    /// <summary>The initialisation seed, for <see cref="WeightSourceKind.Random"/>.</summary>
    public long Seed { get; }

    /// <summary>The backbone's official pretrained file, found through a <see cref="WeightStore"/>.</summary>
    public static WeightSource Pretrained { get; } = new(WeightSourceKind.Pretrained, null, 0);

    public static WeightSource FromFile(string path) =>
        new(WeightSourceKind.File, string.IsNullOrWhiteSpace(path) ? throw new ArgumentException("Weight path is empty.", nameof(path)) : path, 0);

    public static WeightSource Random(long seed = 0) => new(WeightSourceKind.Random, null, seed);

    /// <summary>Parses a command-line value: "pretrained", "random", "random:&lt;seed&gt;", or a file path.</summary>
    public static WeightSource Parse(string text)
    {
        if (text.Equals("pretrained", StringComparison.OrdinalIgnoreCase)) return Pretrained;
        if (text.Equals("random", StringComparison.OrdinalIgnoreCase)) return Random();
        if (text.StartsWith("random:", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(text["random:".Length..], out long seed) ? Random(seed)
                : throw new VigilInputException($"Weights '{text}': the seed after 'random:' must be an integer, e.g. random:42.");
        return FromFile(text);
    }

    public override string ToString() => Kind switch
    {
        WeightSourceKind.Pretrained => "pretrained",
        WeightSourceKind.File => Path!,
        _ => $"random:{Seed}",
    };
}
