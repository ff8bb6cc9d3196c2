using System.Text.Json;
using Vigil.Engine;
using Vigil.Metrics;
using Vigil.Tests.Data;

namespace Vigil.Tests.Engine;

/// <summary>Finished benchmark cells survive a save/load exactly, are found only under their own key and configuration, and are written atomically.</summary>
public class CellStoreTests
{
    private const string Configuration = "backbone=mobilenetv2_int8_onnx;weights=pretrained;ratio=0.8;skipped=0";

    private static CellResult Sample() => new(
        new CellKey("patchcore", "synthetic", "wood", CellKey.Unsupervised, 3),
        "mobilenetv2_int8_onnx",
        RandomWeights: true,
        TrainCount: 12,
        TestCount: 3,
        new EvaluationResult(0.875, 0.9125, new F1Max(0.8, 1.25f), double.NaN, double.NaN, new F1Max(double.NaN, float.NaN),
            double.NaN, 0.3, EvaluationResolution.Model,
            ["pixel metrics are undefined: no test image has a defective pixel", "second warning, with \"quotes\" and ünïcode"]),
        new Efficiency(1.5, 12.25, 20.5, 123_456_789_012, 4096, 41.5, 4, 5000),
        [
            new ImageOutcome("/data/wood/test/good/000.png", false, "good", 0.125f),
            new ImageOutcome("/data/wood/test/crack/000.png", true, "crack", 3.4028235e38f),
            new ImageOutcome("/data/wood/test/stain/000.png", true, "stain", -1e-7f),
        ],
        ["patchcore cannot use labelled anomalies"]);

    [Fact]
    public void SavedCellLoadsBackExactly()
    {
        using var temp = new TempTree();
        var store = new CellStore(temp.Root);
        var saved = Sample();
        store.Save(saved, Configuration);

        Assert.True(new CellStore(temp.Root).TryLoad(saved.Key, Configuration, out var loaded));
        Assert.NotNull(loaded);
        Assert.Equal(saved.Key, loaded.Key);
        Assert.Equal((saved.Backbone, saved.RandomWeights, saved.TrainCount, saved.TestCount),
            (loaded.Backbone, loaded.RandomWeights, loaded.TrainCount, loaded.TestCount));
        Assert.Equal(saved.Efficiency, loaded.Efficiency);

        var (m, l) = (saved.Metrics, loaded.Metrics);
        Assert.Equal(m.ImageAuroc, l.ImageAuroc);
        Assert.Equal(m.ImageAveragePrecision, l.ImageAveragePrecision);
        Assert.Equal(m.ImageF1Max, l.ImageF1Max);
        Assert.True(double.IsNaN(l.PixelAuroc) && double.IsNaN(l.PixelAveragePrecision) && double.IsNaN(l.AuPro));
        Assert.True(double.IsNaN(l.PixelF1Max.F1) && float.IsNaN(l.PixelF1Max.Threshold));
        Assert.Equal(m.ProFprLimit, l.ProFprLimit);
        Assert.Equal(EvaluationResolution.Model, l.Resolution);
        Assert.Equal(m.Warnings, l.Warnings);
        Assert.Equal(saved.Images, loaded.Images); // ImageOutcome is a record of plain values: exact float scores included
        Assert.Equal(saved.Notes, loaded.Notes);
    }

    [Fact]
    public void OtherConfigurationOrKeyMisses()
    {
        using var temp = new TempTree();
        var store = new CellStore(temp.Root);
        var saved = Sample();
        store.Save(saved, Configuration);

        Assert.False(store.TryLoad(saved.Key, Configuration.Replace("pretrained", "random:1"), out var other));
        Assert.Null(other);
        Assert.False(store.TryLoad(saved.Key with { Seed = 4 }, Configuration, out _));
        Assert.False(store.TryLoad(saved.Key with { Category = "tile" }, Configuration, out _));
        Assert.False(store.TryLoad(saved.Key with { Model = "padim" }, Configuration, out _));
        Assert.False(store.TryLoad(saved.Key with { Dataset = "mtd" }, Configuration, out _));
        Assert.False(store.TryLoad(saved.Key with { Setting = "noisy-0.15" }, Configuration, out _));
        Assert.False(new CellStore(temp.Path("elsewhere")).TryLoad(saved.Key, Configuration, out _));
        Assert.True(store.TryLoad(saved.Key, Configuration, out _));
    }

    [Fact]
    public void CellsThatSanitiseToTheSameNameStayApart()
    {
        // "a/b" and "a-b" both become "a-b" in the file name; the hash of the real key must keep them apart.
        using var temp = new TempTree();
        var store = new CellStore(temp.Root);
        var slash = Sample() with { Key = new CellKey("patchcore", "folder", "a/b", CellKey.Unsupervised, 0), TrainCount = 1 };
        var dash = Sample() with { Key = new CellKey("patchcore", "folder", "a-b", CellKey.Unsupervised, 0), TrainCount = 2 };
        store.Save(slash, Configuration);
        store.Save(dash, Configuration);

        Assert.True(store.TryLoad(slash.Key, Configuration, out var a));
        Assert.True(store.TryLoad(dash.Key, Configuration, out var b));
        Assert.Equal((1, 2), (a!.TrainCount, b!.TrainCount));
    }

    [Fact]
    public void SaveLeavesOneCompleteJsonFileAndNoTemporary()
    {
        using var temp = new TempTree();
        var store = new CellStore(temp.Root);
        var saved = Sample();
        store.Save(saved, Configuration);
        store.Save(saved with { TrainCount = 13 }, Configuration); // overwriting keeps one file too

        Assert.Equal(Path.Combine(temp.Root, "cells"), store.Directory);
        var files = Directory.GetFiles(store.Directory, "*", SearchOption.AllDirectories);
        var file = Assert.Single(files);
        Assert.EndsWith(".json", file);
        Assert.DoesNotContain(files, f => f.EndsWith(".tmp"));

        // Parses as one whole JSON document (no trailing garbage) with the cell's fields; NaN kept as a named literal.
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var root = document.RootElement;
        Assert.Equal("wood", root.GetProperty("Key").GetProperty("Category").GetString());
        Assert.Equal(13, root.GetProperty("TrainCount").GetInt32());
        Assert.Equal(3, root.GetProperty("Images").GetArrayLength());
        Assert.Equal("NaN", root.GetProperty("Metrics").GetProperty("PixelAuroc").GetString());
        Assert.True(store.TryLoad(saved.Key, Configuration, out var loaded));
        Assert.Equal(13, loaded!.TrainCount);
    }
}
