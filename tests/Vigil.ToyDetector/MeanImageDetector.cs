using Vigil.Backbones;
using Vigil.Data;
using Vigil.Detectors;
using Vigil.Detectors.Options;
using Vigil.Detectors.Persistence;
using Vigil.Imaging;
using Vigil.Inference;
using static TorchSharp.torch;

namespace Vigil.ToyDetector;

/// <summary>
/// A toy detector: the mean of the normal training images at a small size; a pixel's score is the absolute difference
/// to that mean (summed over channels), the image score the largest pixel score. Not a method from the literature —
/// the smallest detector that exercises the whole contract (options, trainer, state, save and load).
/// </summary>
public sealed class MeanImageModule : DetectorModule<MeanImageOptions>
{
    public override DetectorInfo Info { get; } = new("meanimage", "Absolute difference to the mean training image (a toy that shows how to add a detector)",
        "none (a test detector)", "https://github.com/vigil/toy", DetectorCapabilities.PixelMaps);

    protected override IDetectorTrainer CreateTrainer(MeanImageOptions options) => new MeanImageTrainer(options);

    protected override IDetector Load(ModelArchiveReader archive, MeanImageOptions options, BackboneResolver backbone) =>
        new MeanImageDetector(options, archive.ReadTensor(MeanImageDetector.MeanTensor, 3));
}

public sealed record MeanImageOptions : IDetectorOptions
{
    [Option("size", "Side of the square images are resized to before averaging.")]
    public int Size { get; init; } = 32;

    public void Validate()
    {
        if (Size < 4) throw new VigilInputException($"meanimage size {Size} must be at least 4.");
    }
}

internal sealed class MeanImageTrainer(MeanImageOptions options) : IDetectorTrainer
{
    public IDetector Fit(TrainingData data, TrainingContext context)
    {
        if (data.Normal.Count == 0) throw new VigilInputException("meanimage needs at least 1 training image; got 0.");
        var sum = new float[3 * options.Size * options.Size];
        for (int i = 0; i < data.Normal.Count; i++)
        {
            context.Cancel.ThrowIfCancellationRequested();
            var image = MeanImageDetector.Small(data.Normal[i].LoadImage(), options.Size);
            for (int k = 0; k < sum.Length; k++) sum[k] += image.Data[k];
            context.Progress?.Report(new WorkProgress("images", i + 1, data.Normal.Count));
        }
        for (int k = 0; k < sum.Length; k++) sum[k] /= data.Normal.Count;
        return new MeanImageDetector(options, tensor(sum, [3, options.Size, options.Size]));
    }
}

internal sealed class MeanImageDetector(MeanImageOptions options, Tensor mean) : IDetector
{
    public const string MeanTensor = "mean_image";
    private readonly float[] _mean = mean.data<float>().ToArray();

    public string Model => "meanimage";
    public IDetectorOptions Options => options;
    public BackboneReference? Backbone => null;
    public long StateBytes => _mean.Length * sizeof(float);
    public string StateSummary => $"mean image {options.Size}×{options.Size}";

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<ImageTensor> images) => images.Select(image =>
    {
        var small = Small(ImageOps.ToRgb(image, "The image"), options.Size);
        int plane = options.Size * options.Size;
        var scores = new float[plane];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++) scores[p] += Math.Abs(small.Data[c * plane + p] - _mean[c * plane + p]);
        var map = new ScoreMap(options.Size, options.Size, scores).Resize(image.Height, image.Width);
        return new Prediction(scores.Max(), map);
    }).ToList();

    public void Save(ModelArchiveWriter archive) => archive.WriteTensor(MeanTensor, tensor(_mean, [3, options.Size, options.Size]));

    internal static ImageTensor Small(ImageTensor image, int size) => ImageOps.Resize(image, size, size, Interpolation.Area);

    public void Dispose() => mean.Dispose();
}
