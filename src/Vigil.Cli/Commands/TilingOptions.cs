using System.CommandLine;
using Vigil.Imaging;

namespace Vigil.Cli.Commands;

/// <summary>--tile, --tile-stride and --tile-score, shared by the commands that fit models (bench, train).</summary>
internal sealed class TilingOptions
{
    private readonly Option<int?> _size = new("--tile")
    {
        Description = "Run every model on tiles of N×N pixels cut from the images at full resolution (for large images with small defects); " +
                      "the tiles' maps are stitched back into one map per image, overlaps averaged. Default: whole images.",
    };

    private readonly Option<int?> _stride = new("--tile-stride")
    {
        Description = "Pixels between neighbouring tiles, at most the tile size (default 7/8 of it: 224 for --tile 256).",
    };

    private readonly Option<string?> _score = new Option<string?>("--tile-score")
    {
        Description = "Image score of a tiled model: max-map = the maximum of the stitched map (default), max-tile = the largest of the tiles' scores.",
    }.AcceptOnlyFromAmong(Enum.GetValues<TileScore>().Select(s => s.Name()).ToArray());

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _size, _stride, _score }) command.Options.Add(option);
    }

    /// <summary>The tiling asked for, or null for whole images.</summary>
    public Tiling? Read(ParseResult parse)
    {
        int? size = parse.GetValue(_size), stride = parse.GetValue(_stride);
        var score = parse.GetValue(_score);
        if (size is null)
        {
            if (stride is not null || score is not null)
                throw new VigilInputException("--tile-stride and --tile-score set up tiling; add --tile N (the tile size, e.g. --tile 256 --tile-stride 224).");
            return null;
        }
        return new Tiling(size.Value, stride ?? Math.Max(1, size.Value * 7 / 8), TileScores.Parse(score) ?? TileScore.MaxMap);
    }
}
