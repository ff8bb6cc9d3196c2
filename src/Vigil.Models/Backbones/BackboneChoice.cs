using Vigil.Weights;

namespace Vigil.Backbones;

/// <summary>
/// The backbone a run uses, chosen by name from <see cref="BackboneCatalog"/>, with its weights and input geometry.
/// Opens extractors for the layers each detector reads, and resolves the backbone a model file names.
/// </summary>
public sealed class BackboneChoice(string name, WeightSource weights, FeatureExtractorOptions? input = null) : IBackboneProvider
{
    private readonly Lazy<BackboneReference> _probe = new(() =>
    {
        using var extractor = BackboneCatalog.Open(name, weights, ["layer1"], input);
        return BackboneReference.Of(extractor);
    });

    public string Name { get; } = BackboneCatalog.Names.Contains(name) ? name
        : throw new VigilInputException($"Unknown backbone '{name}'. Known backbones: {string.Join(", ", BackboneCatalog.Names)}.");

    public WeightSource Weights { get; } = weights;
    public FeatureExtractorOptions? Input { get; } = input;

    public IFeatureExtractor Open(IReadOnlyList<string> layers) => BackboneCatalog.Open(Name, Weights, layers, Input);

    /// <summary>The same backbone and weights with another input geometry.</summary>
    public BackboneChoice WithInput(FeatureExtractorOptions input) => new(Name, Weights, input);

    /// <summary>The weights' SHA-256 as the backbone reports it ("random:&lt;seed&gt;" for random weights); opens the backbone once.</summary>
    public string WeightsSha256 => _probe.Value.WeightsSha256;

    /// <summary>The network input after preprocessing, e.g. "resize 224x224" or "resize 256x256, crop 224x224".</summary>
    public string InputDescription => _probe.Value.InputDescription;

    public bool IsRandom => Weights.Kind == WeightSourceKind.Random;

    /// <summary>
    /// Opens the backbone a model file names, with <paramref name="weights"/> (the file records only their hash, which the
    /// loader checks) and the input geometry it was fitted with.
    /// </summary>
    public static BackboneResolver Resolver(WeightSource weights) => reference =>
    {
        if (!BackboneCatalog.Names.Contains(reference.Name))
            throw new VigilInputException($"The model needs backbone '{reference.Name}', which this Vigil does not know (known: {string.Join(", ", BackboneCatalog.Names)}).");
        var p = reference.Preprocessing;
        return BackboneCatalog.Open(reference.Name, weights, reference.Layers,
            new FeatureExtractorOptions { Resize = p.ResizeHeight, Crop = p.CropHeight, Mode = p.Mode, Filter = p.Filter, MaskResize = p.MaskResize });
    };
}
