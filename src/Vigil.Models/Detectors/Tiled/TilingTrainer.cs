using Vigil.Data;
using Vigil.Imaging;

namespace Vigil.Detectors.Tiled;

/// <summary>
/// Makes any detector a tiled one (<see cref="TiledDetector"/>) without changing it: the detector's own trainer fits on
/// the tiles of the training images, each tile a <see cref="Sample"/> with its <see cref="Sample.Tile"/> (loaded by
/// cropping the image, so nothing is held in memory), and the fitted detector is wrapped. Memory-bank detectors thus
/// keep one bank for all tiles: it grows with the number of tiles per image.
/// Labelled anomalies (supervised detectors) give the tiles that hold defective pixels of their mask; an anomaly
/// without a mask cannot be tiled (which tile shows the defect is unknown) and is an input error.
/// </summary>
public class TilingTrainer : IDetectorTrainer
{
    protected TilingTrainer(IDetectorTrainer inner, Tiling tiling) => (Inner, Tiling) = (inner, tiling);

    protected IDetectorTrainer Inner { get; }
    protected Tiling Tiling { get; }

    /// <summary>The tiling trainer of <paramref name="inner"/>: a continual one when <paramref name="inner"/> is.</summary>
    public static IDetectorTrainer Wrap(IDetectorTrainer inner, Tiling tiling)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(tiling);
        return inner is IContinualTrainer continual ? new ContinualTilingTrainer(continual, tiling) : new TilingTrainer(inner, tiling);
    }

    public IDetector Fit(TrainingData data, TrainingContext context)
    {
        var tiles = Tiles(data, context.Cancel);
        return new TiledDetector(Inner.Fit(tiles, context), Tiling) { Fitted = new TiledFit(data.Normal.Count, tiles.Normal.Count) };
    }

    /// <summary>The training data as tiles: every tile of every normal and validation image, the defective tiles of the anomalies.</summary>
    protected TrainingData Tiles(TrainingData data, CancellationToken cancel) => new(data.Normal.SelectMany(s => TilesOf(s, cancel)).ToList())
    {
        Anomalies = data.Anomalies.SelectMany(s => DefectiveTilesOf(s, cancel)).ToList(),
        Validation = data.Validation.SelectMany(s => TilesOf(s, cancel)).ToList(),
    };

    private IEnumerable<Sample> TilesOf(Sample sample, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        var (height, width) = ImageIO.ReadSize(sample.SourcePath);
        return Tiling.Regions(height, width).Select(region => sample with { Tile = region });
    }

    private IEnumerable<Sample> DefectiveTilesOf(Sample sample, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        if (sample.Mask is null)
            throw new VigilInputException(
                $"Labelled anomaly '{sample.Id}' has no mask, so its defective tiles are unknown; tiling needs masks for the anomalies it trains on. Train without --tile, or on data with masks.");
        var (_, mask) = sample.Load();
        return Tiling.Regions(mask.Height, mask.Width)
            .Where(region => ImageOps.Crop(mask, region).Data.Contains(true))
            .Select(region => sample with { Tile = region });
    }
}

/// <summary>The tiling trainer of a continual trainer: each task's tiles are added to what the tiled detector knows.</summary>
public sealed class ContinualTilingTrainer(IContinualTrainer inner, Tiling tiling) : TilingTrainer(inner, tiling), IContinualTrainer
{
    public IDetector FitMore(IDetector? fitted, TrainingData data, TrainingContext context)
    {
        var tiled = fitted switch
        {
            null => null,
            TiledDetector t when t.Tiling == Tiling => t,
            _ => throw new ArgumentException($"A {Tiling.Label} trainer cannot continue {fitted.GetType().Name} (another tiling or none).", nameof(fitted)),
        };
        var tiles = Tiles(data, context.Cancel);
        var learned = ((IContinualTrainer)Inner).FitMore(tiled?.Inner, tiles, context);
        var seen = new TiledFit(data.Normal.Count, tiles.Normal.Count);
        if (tiled?.Fitted is { } before) seen = before + seen;
        // Updated in place: the same tiled detector; a new inner detector: a new wrapper (the caller disposes the old one, and with it the old inner).
        var result = tiled is not null && ReferenceEquals(learned, tiled.Inner) ? tiled : new TiledDetector(learned, Tiling);
        result.Fitted = seen;
        return result;
    }
}
