using Vigil.Backbones;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Records;

namespace Vigil.Detectors.Tiled;

/// <summary>
/// Any detector run on tiles: each image is cut into overlapping tiles at full resolution (<see cref="Tiling"/>),
/// the fitted detector scores the tiles, and their maps are stitched back into one map at the image's size (overlaps
/// averaged). The image score is the stitched map's maximum or the largest tile score (<see cref="TileScore"/>).
/// It is the detector it wraps in every other respect (model, options, backbone, state, saved state; the model file's
/// manifest adds the tiling), and it owns that detector. Made by <see cref="TilingTrainer"/>.
/// </summary>
public sealed class TiledDetector(IDetector inner, Tiling tiling) : ITrainedDetector
{
    /// <summary>Tiles scored per call of the inner detector: one backbone batch, bounded so that large images do not need one huge batch.</summary>
    public const int TileBatch = 16;

    /// <summary>The detector fitted on tiles (owned).</summary>
    public IDetector Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public Tiling Tiling { get; } = tiling ?? throw new ArgumentNullException(nameof(tiling));

    public string Model => Inner.Model;
    public IDetectorOptions Options => Inner.Options;
    public BackboneReference? Backbone => Inner.Backbone;
    public long StateBytes => Inner.StateBytes;
    public string StateSummary => $"{Inner.StateSummary}; tiles {Tiling.Size}×{Tiling.Size}, stride {Tiling.Stride}";

    /// <summary>How many training images and tiles the inner detector was fitted on (all tasks, for continual training); null for a detector loaded from a file.</summary>
    public TiledFit? Fitted { get; internal set; }

    /// <summary>
    /// What tiling did to the fit, for a cell's or a training's notes: the tiles per image and the one state they share
    /// (a memory bank holds every tile's patches, so it grows with the tiles per image; statistics and network weights
    /// keep their size). Empty when <see cref="Fitted"/> is unknown.
    /// </summary>
    public static IReadOnlyList<string> FitNotes(IDetector detector)
    {
        if (detector is not TiledDetector { Fitted: { } fit } tiled) return [];
        double perImage = (double)fit.Tiles / Math.Max(1, fit.Images);
        var growth = tiled.Inner is IMemoryBankDetector
            ? $"its memory bank holds every tile's patches, {perImage:0.#}× those of whole images at the same network input"
            : "its size does not depend on the number of tiles";
        return [$"{tiled.Tiling.Label}: fitted on {fit.Tiles:N0} tiles of {fit.Images:N0} training images ({perImage:0.#} per image), one model state for all tiles " +
                $"({tiled.Inner.StateSummary}; {tiled.StateBytes / 1048576.0:0.#} MiB); {growth}."];
    }

    /// <summary>The inner detector's training log when it was trained by gradient descent.</summary>
    public TrainingLog? Training => (Inner as ITrainedDetector)?.Training;

    /// <summary>Each image's tiles, scored in batches of <see cref="TileBatch"/>; maps at each image's size. No map in the network's view (<see cref="Prediction.View"/>): tiles have one each.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images)
    {
        var predictions = new Prediction[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            var regions = Tiling.Regions(image.Height, image.Width);
            var tiles = new List<Prediction>(regions.Count);
            foreach (var batch in regions.Chunk(TileBatch))
                tiles.AddRange(Inner.Predict(batch.Select(r => ImageOps.Crop(image, r)).ToList()));
            var map = Tiling.Stitch(tiles.Select(t => t.Map).ToList(), regions, image.Height, image.Width);
            predictions[i] = new Prediction(Tiling.Score == TileScore.MaxTile ? tiles.Max(t => t.Score) : map.Data.Max(), map);
        }
        return predictions;
    }

    /// <summary>The inner detector's state; the tiling goes into the manifest (<see cref="Deployment.DeployedModel"/>).</summary>
    public void Save(ModelArchiveWriter archive) => Inner.Save(archive);

    public void Dispose() => Inner.Dispose();
}

/// <summary>What a tiled detector was fitted on: normal training images and their tiles (labelled anomalies' tiles are not counted).</summary>
public sealed record TiledFit(int Images, int Tiles)
{
    public static TiledFit operator +(TiledFit a, TiledFit b) => new(a.Images + b.Images, a.Tiles + b.Tiles);
}
