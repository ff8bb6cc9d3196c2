using Vigil.Backbones;
using Vigil.Detectors;
using Vigil.Metrics;
using Vigil.Records;

namespace Vigil.UseCases;

/// <summary>Builds the <see cref="CellSpec"/> of a cell from what a run chose, so the store, resume and reports see one identity.</summary>
internal static class CellSpecs
{
    public static CellSpec For(ModelSpec model, BackboneChoice backbone, string dataset, string datasetSpec, string category,
        string settingName, string settingSpec, int seed, double trainRatio, int skippedFiles, EvaluationOptions evaluation) =>
        new(model.Name, model.OptionsJson.ToJsonString(), model.Label, dataset, datasetSpec, category, settingName, settingSpec, seed, trainRatio,
            backbone.Name, backbone.WeightsSha256, backbone.InputDescription, evaluation, skippedFiles, VigilBuild.Version)
        {
            Tiling = model.Tiling,
        };
}
