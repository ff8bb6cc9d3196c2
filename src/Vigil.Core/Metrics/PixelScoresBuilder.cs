using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>
/// Makes <see cref="PixelScores"/> image by image, for test sets whose pixels do not fit in memory together: each
/// image's pixels are sorted on their own and appended to a temporary file (8 bytes a pixel; a <see cref="ScratchFile"/>,
/// so nothing stays behind), and the metrics merge
/// those runs. The metrics equal the in-memory <see cref="PixelScores"/>' (counts identically; the AU-PRO's sum of
/// region weights may add pixels of one score in another order, a difference of rounding only). Memory: one image's
/// pixels while adding, a few numbers per image and ground-truth region afterwards.
/// </summary>
public sealed class PixelScoresBuilder : IDisposable
{
    private readonly EvaluationResolution _resolution;
    private readonly List<double> _inverseRegionSize = [double.NaN];
    private PixelRuns? _runs;
    private long _anomalous, _normal;
    private int _images;

    /// <summary>The file goes into <paramref name="tempFolder"/> (default: the system's temporary folder).</summary>
    public PixelScoresBuilder(EvaluationResolution resolution = EvaluationResolution.GroundTruth, string? tempFolder = null)
    {
        _resolution = resolution;
        _runs = new PixelRuns(tempFolder);
    }

    /// <summary>The next test image's anomaly map and ground-truth mask (empty for a good image).</summary>
    public void Add(ScoreMap map, BinaryMask mask)
    {
        var runs = _runs ?? throw new InvalidOperationException("The pixel scores were already built or disposed.");
        var (scores, aligned) = PixelScores.Align(map, mask, _resolution, _images);
        var keys = GC.AllocateUninitializedArray<ulong>(scores.Length);
        var sizes = PixelScores.Pack(scores, aligned, keys);
        uint shift = (uint)(_inverseRegionSize.Count - 1); // local region ids become global
        if (shift > 0 && sizes.Length > 0)
            foreach (ref ulong key in keys.AsSpan())
                if ((uint)key != 0) key += shift;
        runs.Add(keys);
        long positives = 0;
        foreach (int size in sizes)
        {
            _inverseRegionSize.Add(1.0 / size);
            positives += size;
        }
        _anomalous += positives;
        _normal += scores.Length - positives;
        _images++;
    }

    /// <summary>The pixel scores of the images added; they own the file (dispose them), this builder is done.</summary>
    public PixelScores Build()
    {
        var runs = _runs ?? throw new InvalidOperationException("The pixel scores were already built or disposed.");
        if (_images == 0)
            throw new ArgumentException("No anomaly maps given; pixel metrics need at least one test image.");
        _runs = null;
        return new PixelScores(runs, _inverseRegionSize.ToArray(), _anomalous, _normal, _images, _resolution);
    }

    /// <summary>Deletes the file unless <see cref="Build"/> handed them on.</summary>
    public void Dispose()
    {
        _runs?.Dispose();
        _runs = null;
    }
}
