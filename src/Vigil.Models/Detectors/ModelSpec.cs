using System.Text.Json.Nodes;
using Vigil.Detectors.Options;
using Vigil.Detectors.Tiled;
using Vigil.Imaging;

namespace Vigil.Detectors;

/// <summary>A registered model with resolved options: what a user asked for with <c>-m name[:key=value,…]</c>.</summary>
public sealed record ModelSpec(IDetectorModule Module, IDetectorOptions Options)
{
    public string Name => Module.Info.Name;

    /// <summary>Run on tiles of the images (<see cref="TiledDetector"/>, <c>--tile</c>); null = whole images.</summary>
    public Tiling? Tiling { get; init; }

    /// <summary>
    /// How tables and the results store name it: the model's name with default options, its variant's name when the
    /// options are exactly a variant's, else the name with the options that differ from the defaults
    /// (e.g. "patchcore:coreset=0.01"); a tiled model adds its tiling (e.g. "patchcore+tile=256/224"). Equal options
    /// and tiling always give the same label.
    /// </summary>
    public string Label => Tiling is null ? OptionsLabel : $"{OptionsLabel}+{Tiling.Label}";

    private string OptionsLabel
    {
        get
        {
            var changes = Module.Schema.Changes(Options);
            if (changes.Count == 0) return Name;
            foreach (var variant in Module.Variants)
                if (Module.Schema.Changes(Module.Schema.Parse(Name, OptionSchema.KeyValues(variant.Options, variant.Options))).SequenceEqual(changes))
                    return $"{Name}-{variant.Name}";
            return $"{Name}:{string.Join(",", changes.Select(c => $"{c.Key}={c.Value}"))}";
        }
    }

    /// <summary>All option values as JSON (key → text).</summary>
    public JsonObject OptionsJson => Module.Schema.ToJson(Options);

    /// <summary>The module's trainer, wrapped by a <see cref="TilingTrainer"/> when the model runs on tiles.</summary>
    public IDetectorTrainer CreateTrainer() => Tiling is null ? Module.CreateTrainer(Options) : TilingTrainer.Wrap(Module.CreateTrainer(Options), Tiling);

    public override string ToString() => Label;
}
