using System.CommandLine;
using Spectre.Console;
using Vigil.UseCases;

namespace Vigil.Cli.Commands;

/// <summary>`vigil export`: a thin front end over <see cref="ExportModel"/>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var modelFile = new ModelFileOptions();
        var output = new Option<string?>("--out", "-o") { Description = "The .onnx file to write (default: the model file's name with .onnx)." };
        var command = new Command("export",
            "Write a model from 'vigil train' as one ONNX graph from raw RGB pixels to image score and anomaly map, with the " +
            "calibration as outputs and metadata, for ONNX Runtime on a line computer (patchcore and padim). Example: vigil export -f mtd.vgl -o mtd.onnx")
        {
            output,
        };
        modelFile.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(cancel =>
        {
            var outcome = ExportModel.Run(new ExportRequest
            {
                ModelFile = modelFile.File(parse),
                Weights = modelFile.ReadWeights(parse),
                OutputPath = parse.GetValue(output),
            }, cancel);
            AnsiConsole.MarkupLineInterpolated($"{outcome.Model} exported to [bold]{outcome.OutputPath}[/] ({outcome.Bytes / 1048576.0:F1} MiB){(outcome.Calibrated ? ", with the calibrated outputs" : ", scores only (the model has no calibration)")}.");
            Console.WriteLine(outcome.InputContract);
            return 0;
        }));
        return command;
    }
}
