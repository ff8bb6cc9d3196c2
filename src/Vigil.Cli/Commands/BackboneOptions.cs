using System.CommandLine;
using Vigil.Backbones;
using Vigil.UseCases;
using Vigil.Weights;

namespace Vigil.Cli.Commands;

/// <summary>--backbone, --weights, --resize and --crop, shared by the commands that build a feature extractor.</summary>
internal sealed class BackboneOptions(string defaultName)
{
    public const string DefaultBackbone = "resnet18_imagenet";

    private readonly Option<string> _name = new("--backbone", "-b")
    {
        Description = $"Feature extractor: {string.Join(", ", BackboneCatalog.Names)}.",
        DefaultValueFactory = _ => defaultName,
    };

    private readonly Option<string> _weights = Weights();

    private readonly Option<int?> _resize = new("--resize")
    {
        Description = "Network input: images are resized to N×N (default: the backbone's own, 256 for ResNets, 224 for MobileNetV2).",
    };

    public Option<InputProtocol> Protocol { get; } = SharedOptions.Protocol();

    private readonly Option<int?> _crop = new("--crop")
    {
        Description = "Centre crop N×N after the resize (e.g. --resize 256 --crop 224); default none.",
    };

    public static Option<string> Weights() => new("--weights", "-w")
    {
        Description = "Backbone weights: 'pretrained' (found in the weight cache, shared/weights, or downloaded where a network exists), " +
                      "a weight file (.pth, .pt, .safetensors, TorchScript, or .onnx for ONNX backbones), or 'random[:seed]' " +
                      "(results are then marked as random-weight results).",
        DefaultValueFactory = _ => "pretrained",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _name, _weights, _resize, _crop, Protocol }) command.Options.Add(option);
    }

    /// <summary>The chosen backbone, checked before any dataset is opened and decoded.</summary>
    public BackboneChoice Read(ParseResult parse)
    {
        int? resize = parse.GetValue(_resize), crop = parse.GetValue(_crop);
        if (crop is not null && resize is null) throw new VigilInputException("--crop needs --resize (the crop is taken from the resized image), e.g. --resize 256 --crop 224.");
        if (resize < 16 || crop < 16) throw new VigilInputException("--resize and --crop must be at least 16 pixels.");
        if (crop > resize) throw new VigilInputException($"--crop {crop} must not exceed --resize {resize}.");
        if (resize is not null && parse.GetValue(Protocol) == InputProtocol.Reference)
            throw new VigilInputException("--protocol reference gives every model its reference code's input; leave out --resize/--crop, or use --protocol backbone.");
        var input = resize is int r ? new FeatureExtractorOptions { Resize = r, Crop = crop } : null;
        return new BackboneChoice(parse.GetValue(_name)!, WeightSource.Parse(parse.GetValue(_weights)!), input);
    }
}
