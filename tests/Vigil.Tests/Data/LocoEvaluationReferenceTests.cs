using System.Text.Json;
using Vigil.Data;
using Vigil.Imaging;
using Vigil.Metrics;

namespace Vigil.Tests.Data;

/// <summary>
/// The LOCO evaluation, from the files on disk through <see cref="LocoDataset"/> to <see cref="LocoEvaluation"/>, against
/// the official MVTec LOCO evaluation code's numbers on the same category (Fixtures/metrics/loco_evaluation.json, made
/// by make_loco_evaluation_fixture.py, which names the exact reference code used).
/// </summary>
public class LocoEvaluationReferenceTests : IDisposable
{
    private const double Tolerance = 1e-9;
    private readonly TempTree _tree = new();
    public void Dispose() => _tree.Dispose();

    [Fact]
    public void MatchesTheOfficialEvaluationOnTheSameFiles()
    {
        var fixture = JsonDocument.Parse(File.ReadAllText(
            Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics", "loco_evaluation.json"))).RootElement;
        string category = fixture.GetProperty("object").GetString()!;
        int h = fixture.GetProperty("height").GetInt32(), w = fixture.GetProperty("width").GetInt32();

        // The category as the dataset ships it; the maps as the detector would give them, keyed by image.
        _tree.Text(Path.Combine(category, LocoDataset.ConfigFile), fixture.GetProperty("defects_config").GetRawText());
        _tree.Image(Path.Combine(category, "train", "good", "000.png"), h, w);
        var maps = new Dictionary<string, ScoreMap>();
        foreach (var image in fixture.GetProperty("images").EnumerateArray())
        {
            string type = image.GetProperty("type").GetString()!, name = image.GetProperty("name").GetString()!;
            var path = _tree.Image(Path.Combine(category, "test", type, name + ".png"), h, w);
            maps[path] = new ScoreMap(h, w, image.GetProperty("map").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
            int c = 0;
            foreach (var channel in image.GetProperty("channels").EnumerateArray())
            {
                var pixels = channel.GetProperty("mask").EnumerateArray().Select((v, i) => (v.GetInt32(), i)).Where(p => p.Item1 != 0).Select(p => p.i).ToArray();
                _tree.Channel(Path.Combine(category, "ground_truth", type, name, $"{c++:000}.png"), h, w, (byte)channel.GetProperty("pixel_value").GetInt32(), pixels);
            }
        }

        var test = new LocoDataset(_tree.Root).Load(category).Test;
        Assert.Equal(maps.Count, test.Count);
        var testMaps = test.Select(s => maps[s.SourcePath]).ToArray();
        var result = LocoDataset.Evaluate(test, testMaps, testMaps.Select(m => m.Data.Max()).ToArray()); // the official image score: the map's maximum

        var expected = fixture.GetProperty("expected");
        foreach (var (group, scores) in new[] { ("logical_anomalies", result.Logical), ("structural_anomalies", result.Structural), ("mean", result.Mean), ("all", result.All) })
        {
            var want = expected.GetProperty(group);
            Assert.Equal(want.GetProperty("image_auroc").GetDouble(), scores.ImageAuroc, Tolerance);
            var limits = want.GetProperty("auc_spro").EnumerateObject().ToList();
            Assert.Equal(SPro.LocoFprLimits, limits.Select(l => double.Parse(l.Name)));
            foreach (var limit in limits)
                Assert.Equal(limit.Value.GetDouble(), scores.AucSpro[double.Parse(limit.Name)], Tolerance);
        }
        Assert.Empty(result.Warnings);
    }
}
