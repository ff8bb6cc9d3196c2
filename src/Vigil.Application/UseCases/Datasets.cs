using Vigil.Data;

namespace Vigil.UseCases;

/// <summary>Opens datasets for the use cases, showing the work of a first use (the synthetic dataset is generated then).</summary>
internal static class Datasets
{
    public static IDataset Open(string spec, SplitOptions split, IWorkDisplay display) =>
        DatasetCatalog.PreparationNeeded(spec) is { } preparation
            ? display.Run(preparation, p => DatasetCatalog.Open(spec, split, WorkProgress.ForPhase(p, "")))
            : DatasetCatalog.Open(spec, split);
}
