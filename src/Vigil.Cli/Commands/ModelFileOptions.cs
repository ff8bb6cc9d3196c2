using System.CommandLine;
using Vigil.Backbones;
using Vigil.Detectors;
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

    /// <summary>Loads the model, opening the backbone its file names with the given weights (checked against the recorded hash).</summary>
    public FeatureEmbeddingDetector Load(ParseResult parse)
    {
        var path = parse.GetValue(Path)!;
        var weights = WeightSource.Parse(parse.GetValue(Weights)!);
        return DetectorFile.Load(path, reference =>
        {
            if (!BackboneCatalog.Names.Contains(reference.Name))
                throw new VigilInputException($"Model file '{path}' needs backbone '{reference.Name}', which this Vigil does not know (known: {string.Join(", ", BackboneCatalog.Names)}).");
            return BackboneCatalog.Open(reference.Name, weights, reference.Layers);
        });
    }
}
