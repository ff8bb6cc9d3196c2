using Vigil.Detectors;
using Vigil.Detectors.Bgad;
using Vigil.Detectors.Cfa;
using Vigil.Detectors.CFlow;
using Vigil.Detectors.CutPaste;
using Vigil.Detectors.DevNet;
using Vigil.Detectors.Dra;
using Vigil.Detectors.Dne;
using Vigil.Detectors.Draem;
using Vigil.Detectors.FastFlow;
using Vigil.Detectors.Igd;
using Vigil.Detectors.Options;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Detectors.RegAd;
using Vigil.Detectors.ReverseDistillation;
using Vigil.Detectors.SimpleNet;
using Vigil.Detectors.Spade;
using Vigil.Detectors.Stpm;

namespace Vigil.Registry;

/// <summary>
/// Every detector Vigil offers, by name: the composition root of the detectors. A detector is its folder plus one
/// line in <see cref="BuiltIn"/>; a library user or a plugin adds its own with <see cref="Register"/>. The CLI,
/// benchmark, continual runs, model files, reports and perf see detectors only through this registry and
/// <see cref="IDetectorModule"/>; the detector folders never see the registry.
/// </summary>
public static class DetectorRegistry
{
    /// <summary>The detectors Vigil ships, one line each.</summary>
    public static IReadOnlyList<IDetectorModule> BuiltIn { get; } =
    [
        new PatchCoreModule(),
        new PadimModule(),
        new SpadeModule(),
        new StpmModule(),
        new ReverseDistillationModule(),
        new SimpleNetModule(),
        new FastFlowModule(),
        new CFlowModule(),
        new CfaModule(),
        new DevNetModule(),
        new BgadModule(),
        new DraModule(),
        new DneModule(),
        new DraemModule(),
        new CutPasteModule(),
        new RegAdModule(),
        new IgdModule(),
    ];

    private static readonly List<IDetectorModule> Modules = [.. BuiltIn];
    private static readonly Lock Gate = new();

    public static IReadOnlyList<IDetectorModule> All
    {
        get { lock (Gate) return [.. Modules]; }
    }

    /// <summary>Adds a detector; its name must be new (a lower-case word: letters, digits, '_').</summary>
    public static void Register(IDetectorModule module)
    {
        var name = module.Info.Name;
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            throw new ArgumentException($"Detector name '{name}' must be lower-case letters, digits and '_' ('-' introduces a variant, ':' options).");
        lock (Gate)
        {
            if (Modules.Any(m => m.Info.Name == name)) throw new ArgumentException($"A detector named '{name}' is registered already.");
            Modules.Add(module);
        }
    }

    /// <summary>The module called <paramref name="name"/>; unknown names are an input error listing the known ones.</summary>
    public static IDetectorModule Get(string name) =>
        All.FirstOrDefault(m => m.Info.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new VigilInputException($"Unknown model '{name}'. Known models: {KnownNames()} (see 'vigil models').");

    /// <summary>
    /// A model spec: <c>name</c>, <c>name-variant</c>, either followed by <c>:key=value,key=value</c> (see
    /// <see cref="OptionSchema"/>; options given win over the variant's). Case-insensitive names.
    /// </summary>
    public static ModelSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':');
        var name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var given = colon < 0 ? new Dictionary<string, string>() : OptionSchema.KeyValues(spec, spec[(colon + 1)..]);
        var (module, variant) = Find(name);
        var schema = module.Schema;
        var options = variant is null ? schema.Defaults : schema.Parse(module.Info.Name, OptionSchema.KeyValues(spec, variant.Options));
        return new ModelSpec(module, schema.Apply(module.Info.Name, options, given));
    }

    private static (IDetectorModule Module, DetectorVariant? Variant) Find(string name)
    {
        foreach (var module in All)
        {
            if (module.Info.Name == name) return (module, null);
            if (name.StartsWith(module.Info.Name + "-", StringComparison.Ordinal)
                && module.Variants.FirstOrDefault(v => v.Name == name[(module.Info.Name.Length + 1)..]) is { } variant)
                return (module, variant);
        }
        throw new VigilInputException($"Unknown model '{name}'. Known models: {KnownNames()} (see 'vigil models').");
    }

    private static string KnownNames() =>
        string.Join(", ", All.SelectMany(m => m.Variants.Select(v => $"{m.Info.Name}-{v.Name}").Prepend(m.Info.Name)));
}
