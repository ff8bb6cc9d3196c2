using System.Text.Json;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Tests.Metrics;

/// <summary>
/// Compares with values from sklearn and the official MVTec AD / MVTec LOCO evaluation code, produced by
/// Fixtures/metrics/make_fixtures.py (which names the exact reference files used).
/// </summary>
public class ReferenceValuesTests
{
    private const double Tolerance = 1e-6;
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics", "reference_values.json"))).RootElement;

    public static TheoryData<string> ImageCases() => Names("image");
    public static TheoryData<string> PixelCases() => Names("pixel");

    [Theory, MemberData(nameof(ImageCases))]
    public void ImageMetricsMatchSklearn(string name)
    {
        var c = Case("image", name);
        var scores = Floats(c.GetProperty("scores"));
        var labels = c.GetProperty("labels").EnumerateArray().Select(e => e.GetBoolean()).ToArray();
        Assert.Equal(c.GetProperty("auroc").GetDouble(), ImageScores.Auroc(scores, labels), Tolerance);
        Assert.Equal(c.GetProperty("ap").GetDouble(), ImageScores.AveragePrecision(scores, labels), Tolerance);
        var f1 = ImageScores.F1Max(scores, labels);
        Assert.Equal(c.GetProperty("f1").GetDouble(), f1.F1, Tolerance);
        Assert.Equal((float)c.GetProperty("f1_threshold").GetDouble(), f1.Threshold);
    }

    [Theory, MemberData(nameof(PixelCases))]
    public void PixelMetricsMatchSklearnAndMvtecAdPro(string name)
    {
        var c = Case("pixel", name);
        int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
        var maps = c.GetProperty("maps").EnumerateArray().Select(m => new ScoreMap(h, w, Floats(m))).ToList();
        var masks = c.GetProperty("masks").EnumerateArray()
            .Select(m => new BinaryMask(h, w, m.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray())).ToList();
        var pixels = new PixelScores(maps, masks);
        Assert.Equal(c.GetProperty("auroc").GetDouble(), pixels.Auroc(), Tolerance);
        Assert.Equal(c.GetProperty("ap").GetDouble(), pixels.AveragePrecision(), Tolerance);
        var f1 = pixels.F1Max();
        Assert.Equal(c.GetProperty("f1").GetDouble(), f1.F1, Tolerance);
        Assert.Equal((float)c.GetProperty("f1_threshold").GetDouble(), f1.Threshold);
        foreach (var limit in c.GetProperty("aupro").EnumerateObject())
            Assert.Equal(limit.Value.GetDouble(), pixels.AuPro(double.Parse(limit.Name)), Tolerance);
    }

    [Fact]
    public void AucSproMatchesMvtecLocoCode()
    {
        var c = Root.GetProperty("loco");
        int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
        var config = LocoDefectsConfig.Parse(c.GetProperty("defects_config").GetRawText(), "fixture defects_config");
        var maps = new List<ScoreMap>();
        var truths = new List<LocoGroundTruth>();
        foreach (var image in c.GetProperty("images").EnumerateArray())
        {
            maps.Add(new ScoreMap(h, w, Floats(image.GetProperty("map"))));
            var channels = image.GetProperty("channels").EnumerateArray().Select(ch =>
            {
                byte value = (byte)ch.GetProperty("pixel_value").GetInt32();
                var bytes = ch.GetProperty("mask").EnumerateArray().Select(v => v.GetInt32() != 0 ? value : (byte)0).ToArray();
                return config.ChannelFromPixelValues(h, w, bytes, "fixture channel");
            }).ToList();
            truths.Add(new LocoGroundTruth(h, w, channels));
        }
        var result = SPro.Compute(maps, truths);
        foreach (var limit in c.GetProperty("auc_spro").EnumerateObject())
            Assert.Equal(limit.Value.GetDouble(), result.AucSpro[double.Parse(limit.Name)], Tolerance);
    }

    /// <summary>Real defect shapes (MTD masks from shared/, centre-cropped) with a hash-valued map both sides compute identically.</summary>
    [Fact]
    public void PixelMetricsOnRealMtdMasksMatchTheReferences()
    {
        var c = Root.GetProperty("mtd");
        string mtd = SharedData.RequireDirectory("data", "mtd");
        int cropH = c.GetProperty("crop")[0].GetInt32(), cropW = c.GetProperty("crop")[1].GetInt32();
        var masks = c.GetProperty("masks").EnumerateArray()
            .Select(p => ImageOps.CenterCrop(ImageIO.ReadMask(Path.Combine(mtd, p.GetString()!)), cropH, cropW)).ToList();
        var maps = masks.Select((m, k) => new ScoreMap(cropH, cropW, m.Data.Select((d, g) =>
        {
            uint h = (uint)(((ulong)k * 1000003 + (ulong)g) * 2654435761UL); // mod 2^32
            return (float)h * (1f / 4294967296f) + (d ? 0.3f : 0f);
        }).ToArray())).ToList();
        var pixels = new PixelScores(maps, masks);
        Assert.Equal(c.GetProperty("regions").GetInt32(), pixels.RegionCount);
        Assert.Equal(c.GetProperty("auroc").GetDouble(), pixels.Auroc(), Tolerance);
        Assert.Equal(c.GetProperty("ap").GetDouble(), pixels.AveragePrecision(), Tolerance);
        Assert.Equal(c.GetProperty("f1").GetDouble(), pixels.F1Max().F1, Tolerance);
        foreach (var limit in c.GetProperty("aupro").EnumerateObject())
            Assert.Equal(limit.Value.GetDouble(), pixels.AuPro(double.Parse(limit.Name)), Tolerance);
    }

    private static TheoryData<string> Names(string group)
    {
        var data = new TheoryData<string>();
        foreach (var c in Root.GetProperty(group).EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonElement Case(string group, string name) =>
        Root.GetProperty(group).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
}
