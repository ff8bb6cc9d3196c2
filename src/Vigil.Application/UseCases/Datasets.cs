using Vigil.Data;

namespace Vigil.UseCases;

/// <summary>
/// Opens and checks datasets for the use cases and front ends, showing the work of a first use (the synthetic dataset
/// is generated then) and of the check, and warning about images too small to say much.
/// </summary>
public static class Datasets
{
    public static IDataset Open(string spec, SplitOptions split, IWorkDisplay display) =>
        DatasetCatalog.PreparationNeeded(spec) is { } preparation
            ? display.Run(preparation, p => DatasetCatalog.Open(spec, split, WorkProgress.ForPhase(p, "")))
            : DatasetCatalog.Open(spec, split);

    /// <summary>Decodes every image and mask of a category before the work (see <see cref="DatasetValidation.Check"/>); tiny images get a note.</summary>
    public static DatasetCheck Check(IDataset dataset, string category, bool skipCorrupt, IWorkDisplay display)
    {
        var check = display.Run($"checking {dataset.Name}/{category}",
            p => DatasetValidation.Check(dataset.Load(category), skipCorrupt, WorkProgress.ForPhase(p, "")));
        if (check.TinySummary is { } tiny) display.Note($"warning: {tiny}");
        return check;
    }
}
