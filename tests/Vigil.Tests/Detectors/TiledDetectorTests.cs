using System.Text.Json;
using Vigil.Backbones;
using Vigil.Data;
using Vigil.Data.Synthetic;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.Options;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Tiled;
using Vigil.Imaging;
using Vigil.Inference;
using Vigil.Metrics;
using Vigil.Records;
using Vigil.Registry;
using Vigil.Tests.Benchmark;
using Vigil.UseCases;
using Vigil.Weights;
using Xunit.Abstractions;

namespace Vigil.Tests.Detectors;

/// <summary>
/// Tiling as an option of any detector: the inner detector fits on the tiles (memory banks grow with them), predictions
/// are its tile maps averaged where tiles overlap, the model file keeps the tiling, labels and cell specifications name
/// it, continual training continues the tiled detector, and labelled anomalies give their defective tiles only. And why
/// tiling exists: a 3-pixel scratch on a 2048 × 2048 image that the untiled model misses and the tiled one finds.
/// </summary>
public sealed class TiledDetectorTests(ITestOutputHelper output) : IDisposable
{
    // 96 × 96 textures, tiles of 64 every 32 pixels: starts 0 and 32 on each axis, 4 tiles per image.
    private static readonly Tiling Tiles = new(64, 32);
    private const int TilesPerImage = 4;
    private readonly SyntheticTextures _textures = new(seed: 11, trainCount: 4, testNormalCount: 1, testDefectiveCount: 2);
    private readonly string _folder = Directory.CreateTempSubdirectory("vigil-tiled-").FullName;

    public void Dispose()
    {
        _textures.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static ModelSpec Tiled(string model, Tiling? tiling = null) => DetectorRegistry.Parse(model) with { Tiling = tiling ?? Tiles };

    private IDetector Fit(ModelSpec model, IReadOnlyList<Sample>? train = null) =>
        model.CreateTrainer().Fit(new TrainingData(train ?? _textures.Train), new TrainingContext(0, new TestBackbone()));

    [Fact]
    public void PredictionIsTheInnerDetectorsTileMapsAveragedWhereTheyOverlap()
    {
        using var detector = Assert.IsType<TiledDetector>(Fit(Tiled("padim:dims=20")));
        var image = _textures.Test[^1].LoadImage();
        var prediction = detector.Predict(image);

        // Reference: the inner detector on each 64 × 64 crop, and each pixel the mean of the crops holding it.
        int[] starts = [0, 32];
        var tiles = starts.SelectMany(top => starts.Select(left => (top, left, Prediction: detector.Inner.Predict(Crop(image, top, left))))).ToList();
        Assert.Equal(TilesPerImage, tiles.Count);
        var expected = new float[SyntheticTextures.Size * SyntheticTextures.Size];
        for (int y = 0; y < SyntheticTextures.Size; y++)
            for (int x = 0; x < SyntheticTextures.Size; x++)
            {
                var covering = tiles.Where(t => y >= t.top && y < t.top + 64 && x >= t.left && x < t.left + 64).ToList();
                expected[y * SyntheticTextures.Size + x] = covering.Average(t => t.Prediction.Map[y - t.top, x - t.left]);
            }
        Assert.Equal((SyntheticTextures.Size, SyntheticTextures.Size), (prediction.Map.Height, prediction.Map.Width));
        Assert.All(expected.Zip(prediction.Map.Data), p => Assert.Equal(p.First, p.Second, 1e-5f * (1 + Math.Abs(p.First))));
        Assert.Equal(prediction.Map.Data.Max(), prediction.Score);
        Assert.Null(prediction.View);

        // --tile-score max-tile: the largest tile score (the same fitted inner detector, not disposed by this wrapper).
        var byTiles = new TiledDetector(detector.Inner, new Tiling(64, 32, TileScore.MaxTile)).Predict(image);
        float largest = tiles.Max(t => t.Prediction.Score); // one by one here, batched there: equal to float rounding
        Assert.Equal(largest, byTiles.Score, 1e-5f * largest);
        Assert.Equal(prediction.Map.Data, byTiles.Map.Data);
    }

    [Theory]
    [InlineData(96, 96)]   // 2 × 2 tiles, overlapping by 32
    [InlineData(150, 70)]  // last row of tiles flush with the edge; narrower than a tile
    [InlineData(40, 50)]   // smaller than a tile: one tile of the image's size
    public void StitchedMapOfAPositionTrueDetectorIsItsDirectMap(int height, int width)
    {
        // A detector whose map is its input's first channel: every tile's map holds the image's own values at the tile's
        // place, so the stitched map (means of equal values) must be the image itself wherever tiles cover it, i.e. everywhere.
        var image = new ImageTensor(3, height, width, Enumerable.Range(0, 3 * height * width).Select(i => (i * 37 % 1009) / 1009f).ToArray());
        var direct = new IntensityDetector().Predict(image);
        using var tiled = new TiledDetector(new IntensityDetector(), Tiles);
        var stitched = tiled.Predict(image);
        // Equal up to float rounding of the mean of 2 or 4 equal values; a misplaced tile would be off by ~0.1.
        Assert.All(direct.Map.Data.Zip(stitched.Map.Data), p => Assert.Equal(p.First, p.Second, 1e-6f));
        Assert.Equal(direct.Score, stitched.Score, 1e-6f);
        using var byTiles = new TiledDetector(new IntensityDetector(), new Tiling(64, 32, TileScore.MaxTile));
        Assert.Equal(direct.Score, byTiles.Predict(image).Score); // the largest tile maximum is the image maximum
    }

    [Fact]
    public void InnerDetectorFitsOnEveryTileSoTheMemoryBankGrowsWithTheTiles()
    {
        // coreset=1 keeps every training patch: the bank holds one row per feature-grid position of each image it saw.
        using var whole = (PatchCoreDetector)Fit(DetectorRegistry.Parse("patchcore:coreset=1"));
        using var tiled = Assert.IsType<TiledDetector>(Fit(Tiled("patchcore:coreset=1")));
        var inner = Assert.IsType<PatchCoreDetector>(tiled.Inner);
        // Whole images and tiles both reach the network at its 64 × 64 input, so each gives the same grid.
        Assert.Equal(TilesPerImage * whole.MemoryBankSize, inner.MemoryBankSize);
        Assert.Equal(TilesPerImage * whole.StateBytes, tiled.StateBytes);
        Assert.Contains("tiles 64×64, stride 32", tiled.StateSummary);
        // The cell's note names the growth: 4 training images, 4 tiles each.
        Assert.Equal(new TiledFit(_textures.Train.Count, TilesPerImage * _textures.Train.Count), tiled.Fitted);
        var note = Assert.Single(TiledDetector.FitNotes(tiled));
        Assert.Contains($"fitted on 16 tiles of 4 training images (4 per image)", note);
        Assert.Contains(inner.StateSummary, note);
        Assert.Contains("memory bank holds every tile's patches, 4× those of whole images", note);
        Assert.Empty(TiledDetector.FitNotes(whole));

        // The bank's first rows are the patch features of the first image's first tile, as a crop.
        var firstTile = _textures.Train[0] with { Tile = new PixelRegion(0, 0, 64, 64) };
        using var features = inner.PatchFeatures([firstTile]);
        using var bankStart = inner.MemoryBank!.narrow(0, 0, features.shape[0]);
        Assert.True(bankStart.allclose(features, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void PadimStatisticsKeepTheirSizeWhenTiledAndTheNoteSaysSo()
    {
        using var whole = Fit(DetectorRegistry.Parse("padim:dims=20"));
        using var tiled = Assert.IsType<TiledDetector>(Fit(Tiled("padim:dims=20")));
        Assert.Equal(whole.StateBytes, tiled.StateBytes);
        var note = Assert.Single(TiledDetector.FitNotes(tiled));
        Assert.Contains("fitted on 16 tiles of 4 training images (4 per image)", note);
        Assert.Contains("its size does not depend on the number of tiles", note);
        Assert.DoesNotContain("memory bank", note);
    }

    [Fact]
    public void ModelFileKeepsTheTilingAndTheLoadedModelPredictsTheSame()
    {
        using var detector = Fit(Tiled("padim:dims=20", new Tiling(64, 48, TileScore.MaxTile)));
        var path = Path.Combine(_folder, "tiled.vgl");
        DeployedModel.Write(path, detector, calibration: null, provenance: null);
        using (var archive = ModelArchive.Open(path))
            Assert.Equal("""{"size":64,"stride":48,"score":"max-tile"}""", archive.Manifest["tiling"]!.ToJsonString());

        using var loaded = DeployedModel.Load(path, _ => new RandomConvFeatureExtractor());
        var tiled = Assert.IsType<TiledDetector>(loaded.Detector);
        Assert.Equal(new Tiling(64, 48, TileScore.MaxTile), tiled.Tiling);
        Assert.Equal("padim:dims=20+tile=64/48,max-tile", loaded.Spec.Label);
        var image = _textures.Test[0].LoadImage();
        var (before, after) = (detector.Predict(image), loaded.Detector.Predict(image));
        Assert.Equal(before.Score, after.Score);
        Assert.Equal(before.Map.Data, after.Map.Data);

        // An untiled model file has no tiling entry and loads untiled.
        using var untiled = Fit(DetectorRegistry.Parse("padim:dims=20"));
        var plain = Path.Combine(_folder, "plain.vgl");
        DeployedModel.Write(plain, untiled, calibration: null, provenance: null);
        using (var archive = ModelArchive.Open(plain)) Assert.Null(archive.Manifest["tiling"]);
        using var loadedPlain = DeployedModel.Load(plain, _ => new RandomConvFeatureExtractor());
        Assert.IsNotType<TiledDetector>(loadedPlain.Detector);
    }

    [Fact]
    public void LabelsAndCellSpecificationsNameTheTilingAndUntiledSpecificationsKeepTheirHash()
    {
        var model = DetectorRegistry.Parse("patchcore");
        Assert.Equal("patchcore+tile=256/224", (model with { Tiling = new Tiling(256, 224) }).Label);
        var backbone = new BackboneChoice("resnet18", WeightSource.Random(1));
        CellSpec For(ModelSpec m) => CellSpecs.For(m, backbone, "mtd", "mtd", "mtd", CellKey.Unsupervised, CellKey.Unsupervised, 0, 0.8, 0, new EvaluationOptions());
        var plain = For(model);
        var tiled = For(model with { Tiling = new Tiling(256, 224) });
        // An untiled specification's JSON has no tiling field at all: cells stored before tiling existed keep their hash.
        Assert.DoesNotContain("Tiling", JsonSerializer.Serialize(plain, RecordJson.Compact));
        Assert.Equal(new Tiling(256, 224), tiled.Tiling);
        Assert.Equal("patchcore+tile=256/224", tiled.ModelLabel);
        Assert.NotEqual(plain.Hash, tiled.Hash);
        Assert.NotEqual(tiled.Hash, For(model with { Tiling = new Tiling(256, 256) }).Hash);
        Assert.NotEqual(tiled.Hash, For(model with { Tiling = new Tiling(256, 224, TileScore.MaxTile) }).Hash);
        var read = JsonSerializer.Deserialize<CellSpec>(JsonSerializer.Serialize(tiled, RecordJson.Compact), RecordJson.Compact)!;
        Assert.Equal(tiled.Hash, read.Hash);

        // The reference protocol resizes whole images: it does not combine with tiles.
        Assert.Contains("use one of them", Assert.Throws<VigilInputException>(() => InputProtocol.Reference.WithTiling(model, new Tiling(256, 224))).Message);
        Assert.Same(model, InputProtocol.Reference.WithTiling(model, null));
    }

    [Fact]
    public void ContinualTrainingAddsTheNextTasksTilesToTheSameTiledDetector()
    {
        var model = Tiled("patchcore:coreset=1");
        var trainer = Assert.IsAssignableFrom<IContinualTrainer>(model.CreateTrainer());
        var context = new TrainingContext(0, new TestBackbone());
        using var first = trainer.FitMore(null, new TrainingData(_textures.Train.Take(2).ToList()), context);
        long afterFirst = ((PatchCoreDetector)((TiledDetector)first).Inner).MemoryBankSize;
        var second = trainer.FitMore(first, new TrainingData(_textures.Train.Skip(2).ToList()), context);
        Assert.Same(first, second); // PatchCore continues in place
        Assert.Equal(2 * afterFirst, ((PatchCoreDetector)((TiledDetector)second).Inner).MemoryBankSize);
        Assert.Equal(new TiledFit(4, 4 * TilesPerImage), ((TiledDetector)second).Fitted); // both tasks counted
        using var untiled = Fit(DetectorRegistry.Parse("patchcore:coreset=1"));
        Assert.Throws<ArgumentException>(() => trainer.FitMore(untiled, new TrainingData(_textures.Train), context));
    }

    [Fact]
    public void LabelledAnomaliesGiveTheirDefectiveTilesAndOneWithoutMaskIsNamed()
    {
        // Tiles of 32 without overlap (9 per image): a disc of radius 7 reaches into 1 to 4 of them.
        var tiling = new Tiling(32, 32);
        var capture = new CapturingTrainer();
        var trainer = TilingTrainer.Wrap(capture, tiling);
        Assert.IsNotAssignableFrom<IContinualTrainer>(trainer); // the inner trainer is not continual
        var defective = _textures.Test.Where(s => s.IsAnomalous).ToList();
        var validation = _textures.Test.Where(s => !s.IsAnomalous).ToList();
        var tiled = (TiledDetector)trainer.Fit(new TrainingData(_textures.Train) { Anomalies = defective, Validation = validation }, new TrainingContext(0, new TestBackbone()));
        Assert.Same(capture.Fitted, tiled.Inner);

        var data = capture.Data!;
        var allTiles = tiling.Regions(SyntheticTextures.Size, SyntheticTextures.Size);
        Assert.Equal(9, allTiles.Count);
        Assert.Equal(_textures.Train.SelectMany(s => allTiles.Select(r => $"{s.SourcePath}@{r}")), data.Normal.Select(s => s.Id));
        Assert.Equal(validation.Count * 9, data.Validation.Count);
        // Each anomaly gives exactly the tiles its mask reaches into.
        var expected = defective.SelectMany(s =>
        {
            var (_, mask) = s.Load();
            return allTiles.Where(r => Enumerable.Range(r.Top, r.Height).Any(y => Enumerable.Range(r.Left, r.Width).Any(x => mask[y, x])))
                .Select(r => $"{s.SourcePath}@{r}");
        }).ToList();
        Assert.Equal(expected, data.Anomalies.Select(s => s.Id));
        Assert.InRange(data.Anomalies.Count, defective.Count, defective.Count * 4);
        Assert.All(data.Anomalies, s => Assert.Contains(true, s.Load().Mask.Data));

        var unmasked = defective[0] with { Mask = null };
        var error = Assert.Throws<VigilInputException>(() => TilingTrainer.Wrap(new CapturingTrainer(), tiling)
            .Fit(new TrainingData(_textures.Train) { Anomalies = [unmasked] }, new TrainingContext(0, new TestBackbone())));
        Assert.Contains(unmasked.SourcePath, error.Message);
        Assert.Contains("has no mask", error.Message);
    }

    private const int LargeSize = 2048, TrainCount = 3, CleanTestCount = 2;
    // The scratch: rows 1101–1103, columns 900–1059 (3 × 160 pixels), wholly inside the tile at (896, 896).
    private const int ScratchTop = 1101, ScratchLeft = 900, ScratchWidth = 3, ScratchLength = 160;

    /// <summary>A defect-free 2048 × 2048 wood texture of the synthetic generator.</summary>
    private static ImageTensor Wood(ulong seed) => SyntheticDataset.Render("wood", LargeSize, seed).Image;

    /// <summary>
    /// The network sees 256 × 256 pixels: the whole 2048 × 2048 image shrunk to that size keeps a fraction of a pixel of
    /// the scratch, and the model misses it; tiles of 256 at full resolution keep all 3 pixels, and the same model finds it.
    /// </summary>
    [Fact]
    public void TiledModelFindsAThinScratchOnALargeImageThatTheUntiledModelMisses()
    {
        var train = Enumerable.Range(0, TrainCount).Select(i =>
        {
            var path = Path.Combine(_folder, $"train_{i}.png");
            ImageIO.Write(Wood((ulong)i), path);
            return new Sample(path, SampleLabel.Normal, "good", "synthetic", "wood");
        }).ToList();
        var clean = Enumerable.Range(0, CleanTestCount).Select(i => Wood((ulong)(100 + i))).ToList();
        var (scratched, mask) = Scratch(Wood(200));

        // The same model and backbone (network input 256 × 256), once on whole images, once on 256-pixel tiles.
        var backbone = new TestBackbone(() => new RandomConvFeatureExtractor(preprocessing: new Preprocessing(256, 256)));
        var model = DetectorRegistry.Parse("padim:dims=20");
        var results = new Dictionary<string, (bool Found, float Margin, double Distance, double PixelAuroc)>();
        foreach (var (name, spec) in new[] { ("untiled", model), ("tiled", model with { Tiling = new Tiling(256, 224) }) })
        {
            using var detector = spec.CreateTrainer().Fit(new TrainingData(train), new TrainingContext(0, backbone));
            var cleanScores = clean.Select(image => detector.Predict(image).Score).ToList();
            var prediction = detector.Predict(scratched);
            // Where the map peaks, and how far that is from the scratch.
            int peak = Array.IndexOf(prediction.Map.Data, prediction.Map.Data.Max());
            double distance = DistanceToScratch(peak / LargeSize, peak % LargeSize);
            double pixelAuroc = new PixelScores([prediction.Map], [mask]).Auroc();
            float margin = prediction.Score - cleanScores.Max();
            results[name] = (margin > 0 && distance <= 8, margin, distance, pixelAuroc);
            output.WriteLine($"{name}: scratched image score {prediction.Score:G5}, clean {string.Join(", ", cleanScores.Select(s => s.ToString("G5")))}; " +
                             $"map peak {distance:F0} px from the scratch; pixel AUROC of the scratch {pixelAuroc:F3}");
        }

        // Tiled: the scratched image scores above every clean one, its map peaks on the scratch, and the scratch's pixels rank high.
        Assert.True(results["tiled"].Found, $"tiled: {results["tiled"]}");
        Assert.True(results["tiled"].PixelAuroc > 0.95, $"tiled: {results["tiled"]}");
        // Untiled: the map peaks far from the scratch, whose pixels rank no better than the rest.
        Assert.False(results["untiled"].Found, $"untiled: {results["untiled"]}");
        Assert.True(results["untiled"].Distance > 100, $"untiled: {results["untiled"]}");
        Assert.True(results["untiled"].PixelAuroc < 0.8, $"untiled: {results["untiled"]}");
    }

    /// <summary>The image with a straight bright scratch 3 pixels wide, and its mask.</summary>
    private static (ImageTensor Image, BinaryMask Mask) Scratch(ImageTensor image)
    {
        var mask = new BinaryMask(LargeSize, LargeSize);
        for (int y = ScratchTop; y < ScratchTop + ScratchWidth; y++)
            for (int x = ScratchLeft; x < ScratchLeft + ScratchLength; x++)
            {
                mask[y, x] = true;
                for (int c = 0; c < image.Channels; c++) image[c, y, x] = Math.Min(1f, image[c, y, x] + 0.3f);
            }
        return (image, mask);
    }

    private static double DistanceToScratch(int y, int x)
    {
        int dy = Math.Max(0, Math.Max(ScratchTop - y, y - (ScratchTop + ScratchWidth - 1)));
        int dx = Math.Max(0, Math.Max(ScratchLeft - x, x - (ScratchLeft + ScratchLength - 1)));
        return Math.Sqrt(dy * dy + dx * dx);
    }

    private static ImageTensor Crop(ImageTensor image, int top, int left) => ImageOps.Crop(image, new PixelRegion(top, left, 64, 64));

    /// <summary>A detector whose map is the first channel of its input and whose score is that map's maximum.</summary>
    private sealed class IntensityDetector : IDetector
    {
        public string Model => "intensity";
        public IDetectorOptions Options => throw new NotSupportedException();
        public BackboneReference? Backbone => null;
        public long StateBytes => 0;
        public string StateSummary => "";

        public IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images) =>
            images.Select(i => new ScoreMap(i.Height, i.Width, i.Plane(0).ToArray())).Select(m => new Prediction(m.Data.Max(), m)).ToList();

        public void Save(ModelArchiveWriter archive) => throw new NotSupportedException();
        public void Dispose() { }
    }

    /// <summary>A trainer that keeps the data it was given (and returns an <see cref="IntensityDetector"/>).</summary>
    private sealed class CapturingTrainer : IDetectorTrainer
    {
        public TrainingData? Data { get; private set; }
        public IDetector? Fitted { get; private set; }

        public IDetector Fit(TrainingData data, TrainingContext context)
        {
            Data = data;
            return Fitted = new IntensityDetector();
        }
    }
}
