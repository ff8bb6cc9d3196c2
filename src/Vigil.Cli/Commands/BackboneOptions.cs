using System.CommandLine;
using Vigil.Backbones;

namespace Vigil.Cli.Commands;

/// <summary>--backbone and --weights, shared by the commands that build a feature extractor.</summary>
internal static class BackboneOptions
{
    public static Option<string> Backbone(string defaultName) => new("--backbone", "-b")
    {
        Description = $"Feature extractor: {string.Join(", ", BackboneCatalog.Names)}.",
        DefaultValueFactory = _ => defaultName,
    };

    /// <summary>The backbone name, checked before any dataset is opened and decoded.</summary>
    public static string Require(string name) => BackboneCatalog.Names.Contains(name) ? name
        : throw new VigilInputException($"Unknown backbone '{name}'. Known backbones: {string.Join(", ", BackboneCatalog.Names)}.");

    public static Option<string> Weights() => new("--weights", "-w")
    {
        Description = "Backbone weights: 'pretrained' (found in the weight cache, shared/weights, or downloaded where a network exists), " +
                      "a weight file (.pth, .pt, .safetensors, TorchScript, or .onnx for ONNX backbones), or 'random[:seed]' " +
                      "(results are then marked as random-weight results).",
        DefaultValueFactory = _ => "pretrained",
    };
}
