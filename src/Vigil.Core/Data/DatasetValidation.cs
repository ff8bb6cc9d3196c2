using Vigil.Imaging;

namespace Vigil.Data;

/// <summary>A sample left out of a run because its image or mask could not be used, and why.</summary>
public sealed record SkippedFile(Sample Sample, string Reason);

/// <summary>A usable sample whose image is below <see cref="ImageLimits.MinSide"/> pixels on a side: kept, but worth a warning.</summary>
public sealed record TinyImage(Sample Sample, int Height, int Width)
{
    public string Text => ImageLimits.TinyWarning(Sample.SourcePath, Height, Width);
}

/// <summary>What <see cref="DatasetValidation.Check"/> found: the usable split, the samples left out, and the tiny images kept.</summary>
public sealed record DatasetCheck(DatasetSplit Clean, IReadOnlyList<SkippedFile> Skipped, IReadOnlyList<TinyImage> Tiny)
{
    /// <summary>The tiny images as one line for a run's output (how many, the first as an example); null when there are none.</summary>
    public string? TinySummary => Tiny.Count switch
    {
        0 => null,
        1 => Tiny[0].Text,
        _ => $"{Counted.Of(Tiny.Count, "image")} are below {ImageLimits.MinSide} pixels on a side (the first, '{Tiny[0].Sample.SourcePath}', is {Tiny[0].Width}x{Tiny[0].Height}): " +
             "a model enlarges them many times, so their scores and maps say little. 'vigil datasets show --check' lists them.",
    };
}

/// <summary>
/// Decodes every image and mask of a split before a long run, so a bad file stops the run at once (with the file
/// named) or, when the user allows it, is dropped and reported instead of failing hours later. Images too small to
/// say much are kept and listed.
/// </summary>
public static class DatasetValidation
{
    /// <param name="split">The split to check.</param>
    /// <param name="skipCorrupt">False: the first bad file throws its <see cref="VigilInputException"/>. True: bad samples are dropped and returned with their reasons.</param>
    /// <param name="progress">Receives (images checked, total) after each sample.</param>
    public static DatasetCheck Check(DatasetSplit split, bool skipCorrupt, IProgress<(int Done, int Total)>? progress = null)
    {
        var skipped = new List<SkippedFile>();
        var tiny = new List<TinyImage>();
        int done = 0, total = split.Train.Count + split.Test.Count + split.Validation.Count;
        List<Sample> Keep(IReadOnlyList<Sample> samples)
        {
            var kept = new List<Sample>(samples.Count);
            foreach (var sample in samples)
            {
                try
                {
                    var (height, width) = Decode(sample);
                    if (ImageLimits.IsTiny(height, width)) tiny.Add(new TinyImage(sample, height, width));
                    kept.Add(sample);
                }
                catch (VigilInputException e) when (skipCorrupt)
                {
                    skipped.Add(new SkippedFile(sample, e.Message));
                }
                catch (VigilInputException e)
                {
                    throw new VigilInputException($"{e.Message} To leave such files out of the run instead, add --skip-corrupt.", e);
                }
                progress?.Report((++done, total));
            }
            return kept;
        }
        var train = Keep(split.Train);
        var test = Keep(split.Test);
        var validation = Keep(split.Validation);
        if (train.Count == 0 || test.Count == 0)
            throw new VigilInputException(
                $"After skipping {Counted.Of(skipped.Count, "unreadable file")}, category '{split.Category}' of '{split.Dataset}' has {train.Count} training and {test.Count} test images left; first problem: {skipped.FirstOrDefault()?.Reason}");
        return new DatasetCheck(split with { Train = train, Test = test, Validation = validation }, skipped, tiny);
    }

    /// <summary>
    /// Decodes the image and checks the mask against its size, returning the image's size; an unreadable file
    /// (permissions, I/O error) becomes an input error naming the sample.
    /// </summary>
    private static (int Height, int Width) Decode(Sample sample)
    {
        try
        {
            var (image, _) = sample.Load();
            return (image.Height, image.Width);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Image '{sample.SourcePath}' or its mask cannot be read: {e.Message} Check that the file is readable.", e);
        }
    }
}
