using System.Text.Json.Serialization;

namespace Vigil.Imaging;

/// <summary>A rectangle of an image in pixels: rows Top … Top + Height − 1, columns Left … Left + Width − 1.</summary>
public readonly record struct PixelRegion(int Top, int Left, int Height, int Width)
{
    public override string ToString() => $"{Width}x{Height}+{Left}+{Top}";
}

/// <summary>How a tiled detector scores an image; named as on the command line (<c>--tile-score max-map|max-tile</c>) in records and model files.</summary>
public enum TileScore
{
    /// <summary>The maximum of the stitched anomaly map (after overlaps are averaged).</summary>
    [JsonStringEnumMemberName("max-map")] MaxMap,

    /// <summary>The maximum of the tiles' own image scores (each the detector's score of one tile).</summary>
    [JsonStringEnumMemberName("max-tile")] MaxTile,
}

public static class TileScores
{
    /// <summary>The score's command-line name: "max-map" or "max-tile".</summary>
    public static string Name(this TileScore score) => score switch
    {
        TileScore.MaxMap => "max-map",
        TileScore.MaxTile => "max-tile",
        _ => throw new ArgumentOutOfRangeException(nameof(score), score, null),
    };

    /// <summary>The score a command-line name stands for; null for an unknown name.</summary>
    public static TileScore? Parse(string? name)
    {
        foreach (var score in Enum.GetValues<TileScore>())
            if (string.Equals(score.Name(), name?.Trim(), StringComparison.OrdinalIgnoreCase)) return score;
        return null;
    }
}

/// <summary>
/// Cutting images into overlapping square tiles at full resolution and stitching the tiles' anomaly maps back into one
/// map at the image's size (overlaps averaged). Tiles start every <see cref="Stride"/> pixels along each axis; where
/// the last one would end short of the image's edge, one more tile is added flush with it, so every pixel is covered
/// and no tile reaches outside the image. An image smaller than a tile along an axis gets one tile of its own extent
/// along that axis.
/// </summary>
/// <param name="Size">Tile side in pixels.</param>
/// <param name="Stride">Pixels between the starts of neighbouring tiles (at most <paramref name="Size"/>: tiles overlap by Size − Stride).</param>
/// <param name="Score">The image score: maximum of the stitched map, or of the tiles' scores.</param>
public sealed record Tiling(int Size, int Stride, TileScore Score = TileScore.MaxMap)
{
    /// <summary>Smallest tile side accepted (backbones downsample by up to 32).</summary>
    public const int MinimumSize = 32;

    public int Size { get; } = Size >= MinimumSize ? Size
        : throw new VigilInputException($"Tile size {Size} is too small: tiles must be at least {MinimumSize} pixels (e.g. --tile 256).");

    public int Stride { get; } = Stride >= 1 && Stride <= Size ? Stride
        : throw new VigilInputException($"Tile stride {Stride} must be between 1 and the tile size {Size}: a larger stride would leave pixels between tiles unseen (e.g. --tile {Size} --tile-stride {Size * 7 / 8}).");

    public TileScore Score { get; } = Enum.IsDefined(Score) ? Score : throw new VigilInputException($"Unknown tile score {Score}; use max-map or max-tile.");

    /// <summary>How model labels name the tiling, e.g. "tile=256/224" (image score max-map, the default) or "tile=256/224,max-tile".</summary>
    public string Label => $"tile={Size}/{Stride}" + (Score == TileScore.MaxMap ? "" : $",{Score.Name()}");

    /// <summary>The tiles of an image of <paramref name="height"/> × <paramref name="width"/>, row by row.</summary>
    public IReadOnlyList<PixelRegion> Regions(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"Image size {height}x{width} must be positive.");
        var rows = Starts(height);
        var columns = Starts(width);
        var regions = new List<PixelRegion>(rows.Count * columns.Count);
        foreach (int top in rows)
            foreach (int left in columns)
                regions.Add(new PixelRegion(top, left, Math.Min(Size, height), Math.Min(Size, width)));
        return regions;
    }

    /// <summary>Tile starts along an axis of <paramref name="length"/> pixels: 0, Stride, 2·Stride, … and, if needed, length − Size.</summary>
    private List<int> Starts(int length)
    {
        if (length <= Size) return [0];
        var starts = new List<int>();
        for (int start = 0; start + Size < length; start += Stride) starts.Add(start);
        if (starts[^1] + Size < length) starts.Add(length - Size);
        return starts;
    }

    /// <summary>
    /// One map of <paramref name="height"/> × <paramref name="width"/> from the tiles' maps (each of its region's size):
    /// each pixel is the mean of the tile maps that cover it.
    /// </summary>
    public static ScoreMap Stitch(IReadOnlyList<ScoreMap> maps, IReadOnlyList<PixelRegion> regions, int height, int width)
    {
        if (maps.Count != regions.Count) throw new ArgumentException($"{maps.Count} tile maps for {regions.Count} tiles.", nameof(maps));
        var stitched = new float[height * width]; // the sums first, then the means
        var counts = new int[height * width];
        for (int t = 0; t < maps.Count; t++)
        {
            var (map, r) = (maps[t], regions[t]);
            if (map.Height != r.Height || map.Width != r.Width)
                throw new ArgumentException($"Tile map #{t} is {map.Width}x{map.Height}, its tile {r.Width}x{r.Height}.", nameof(maps));
            if (r.Top < 0 || r.Left < 0 || r.Top + r.Height > height || r.Left + r.Width > width)
                throw new ArgumentException($"Tile {r} lies outside the {width}x{height} image.", nameof(regions));
            for (int y = 0; y < r.Height; y++)
            {
                int row = (r.Top + y) * width + r.Left;
                for (int x = 0; x < r.Width; x++)
                {
                    stitched[row + x] += map.Data[y * r.Width + x];
                    counts[row + x]++;
                }
            }
        }
        for (int i = 0; i < stitched.Length; i++)
        {
            if (counts[i] == 0) throw new ArgumentException($"Pixel ({i % width}, {i / width}) lies in no tile.", nameof(regions));
            stitched[i] /= counts[i];
        }
        return new ScoreMap(height, width, stitched);
    }
}
