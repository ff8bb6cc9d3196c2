using System.CommandLine;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>--model-file and the backbone weights it needs, shared by `vigil test` and `vigil predict`.</summary>
internal sealed class ModelFileOptions
{
    public Option<string> Path { get; } = new("--model-file", "-f")
    {
        Description = "A model file written by 'vigil train'.",
        Required = true,
    };

    public Option<string> Weights { get; } = BackboneOptions.Weights();

    public void AddTo(Command command)
    {
        command.Options.Add(Path);
        command.Options.Add(Weights);
    }

    public string File(ParseResult parse) => parse.GetValue(Path)!;

    public WeightSource ReadWeights(ParseResult parse) => WeightSource.Parse(parse.GetValue(Weights)!);
}
