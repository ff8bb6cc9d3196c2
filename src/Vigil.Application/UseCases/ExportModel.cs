using Vigil.Backbones;
using Vigil.Deployment;
using Vigil.Export;
using Vigil.Weights;

namespace Vigil.UseCases;

/// <summary>Turn a model file from <c>vigil train</c> into one ONNX graph (docs/deployment.md, "ONNX export").</summary>
public sealed record ExportRequest
{
    public required string ModelFile { get; init; }
    public WeightSource Weights { get; init; } = WeightSource.Pretrained;

    /// <summary>The .onnx file to write; default: the model file's name with the extension .onnx.</summary>
    public string? OutputPath { get; init; }
}

/// <param name="Calibrated">Whether the graph has the calibrated outputs (normalised score, label, defect mask).</param>
public sealed record ExportOutcome(string OutputPath, string Model, long Bytes, bool Calibrated, string InputContract);

/// <summary>
/// Loads a model file (checked as for predict), writes its ONNX graph whole or not at all, and says what the graph takes.
/// Models that do not export (see <see cref="OnnxExport.SupportedModels"/>) are input errors naming those that do.
/// </summary>
public static class ExportModel
{
    public static ExportOutcome Run(ExportRequest request, CancellationToken cancel = default)
    {
        var output = request.OutputPath ?? Path.ChangeExtension(request.ModelFile, ".onnx");
        OutputChecks.RequireWritableFile(output, "the ONNX model");
        using var model = DeployedModel.Load(request.ModelFile, BackboneChoice.Resolver(request.Weights));
        cancel.ThrowIfCancellationRequested();
        var bytes = OnnxExport.Export(model, request.ModelFile);
        cancel.ThrowIfCancellationRequested();
        FileOutput.WriteAllBytes(output, bytes);
        // Export succeeded, so the model has a backbone (the frozen-feature detectors that export all do).
        return new ExportOutcome(Path.GetFullPath(output), model.Detector.Model, bytes.LongLength, model.Calibration is not null,
            OnnxExport.InputContract(model.Detector.Backbone!.Preprocessing));
    }
}
