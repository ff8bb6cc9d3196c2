namespace Vigil.Data;

/// <summary>A sample left out of a run because its image or mask could not be used, and why.</summary>
public sealed record SkippedFile(Sample Sample, string Reason);

/// <summary>
/// Decodes every image and mask of a split before a long run, so a bad file stops the run at once (with the file
/// named) or, when the user allows it, is dropped and reported instead of failing hours later.
/// </summary>
public static class DatasetValidation
{
    /// <param name="split">The split to check.</param>
    /// <param name="skipCorrupt">False: the first bad file throws its <see cref="VigilInputException"/>. True: bad samples are dropped and returned with their reasons.</param>
    /// <param name="progress">Receives (images checked, total) after each sample.</param>
    public static (DatasetSplit Clean, IReadOnlyList<SkippedFile> Skipped) Check(DatasetSplit split, bool skipCorrupt,
        IProgress<(int Done, int Total)>? progress = null)
    {
        var skipped = new List<SkippedFile>();
        int done = 0, total = split.Train.Count + split.Test.Count + split.Validation.Count;
        List<Sample> Keep(IReadOnlyList<Sample> samples)
        {
            var kept = new List<Sample>(samples.Count);
            foreach (var sample in samples)
            {
                try
                {
                    Decode(sample);
                    kept.Add(sample);
                }
                catch (VigilInputException e) when (skipCorrupt)
                {
                    skipped.Add(new SkippedFile(sample, e.Message));
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
                $"After skipping {skipped.Count} unreadable file(s), category '{split.Category}' of '{split.Dataset}' has {train.Count} training and {test.Count} test images left; first problem: {skipped.FirstOrDefault()?.Reason}");
        return (split with { Train = train, Test = test, Validation = validation }, skipped);
    }

    /// <summary>Decodes the image and checks the mask against its size; an unreadable file (permissions, I/O error) becomes an input error naming the sample.</summary>
    private static void Decode(Sample sample)
    {
        try { sample.Load(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Image '{sample.SourcePath}' or its mask cannot be read: {e.Message} Check that the file is readable.", e);
        }
    }
}
