using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vigil.Detectors.Options;

/// <summary>One option of a detector: its key, what it means, its type as users write it, and its default.</summary>
public sealed record OptionInfo(string Key, string Description, string Type, string Default);

/// <summary>
/// Reads and writes a detector's options (<see cref="IDetectorOptions"/>) by key, as text: numbers in invariant form,
/// booleans true/false, enums by name (case-insensitive), lists joined with '+', and "none" for an unset optional
/// value. One schema serves the command line (<c>-m patchcore:coreset=0.01,layers=layer2+layer3</c>), config files,
/// model files and the cell specification, so a value means the same everywhere.
/// </summary>
public sealed class OptionSchema
{
    private readonly Type _type;
    private readonly IReadOnlyList<(OptionInfo Info, PropertyInfo Property)> _options;
    private readonly IDetectorOptions _defaults;

    private OptionSchema(Type type)
    {
        _type = type;
        _defaults = (IDetectorOptions)(Activator.CreateInstance(type) ?? throw new ArgumentException($"{type} needs a parameterless constructor."));
        _options = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<OptionAttribute>()))
            .Where(p => p.Attribute is not null)
            .Select(p => (new OptionInfo(p.Attribute!.Key, p.Attribute.Description, TypeName(p.Property.PropertyType),
                Format(p.Property.GetValue(_defaults))), p.Property))
            .ToList();
        var duplicate = _options.GroupBy(o => o.Info.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"{type.Name} declares option key '{duplicate.Key}' twice.");
    }

    private static readonly Dictionary<Type, OptionSchema> Cache = [];

    /// <summary>The schema of an options type (made once per type).</summary>
    public static OptionSchema For(Type type)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(type, out var schema)) Cache[type] = schema = new OptionSchema(type);
            return schema;
        }
    }

    public IReadOnlyList<OptionInfo> Options => _options.Select(o => o.Info).ToList();

    public IDetectorOptions Defaults => _defaults;

    /// <summary>
    /// The defaults with <paramref name="values"/> (key → text) applied, validated. Unknown keys and unreadable values
    /// are <see cref="VigilInputException"/>s that list what is allowed; <paramref name="model"/> names the model in them.
    /// </summary>
    public IDetectorOptions Parse(string model, IReadOnlyDictionary<string, string> values) => Apply(model, _defaults, values);

    /// <summary><paramref name="baseline"/> with <paramref name="values"/> applied and validated.</summary>
    public IDetectorOptions Apply(string model, IDetectorOptions baseline, IReadOnlyDictionary<string, string> values)
    {
        var options = Clone(baseline);
        foreach (var (key, text) in values)
        {
            var match = _options.FirstOrDefault(o => o.Info.Key.Equals(key.Trim(), StringComparison.OrdinalIgnoreCase));
            if (match.Property is null)
                throw new VigilInputException($"Model '{model}' has no option '{key}'. Its options: {string.Join(", ", _options.Select(o => o.Info.Key))} (see 'vigil models').");
            match.Property.SetValue(options, Read(model, match.Info, match.Property.PropertyType, text.Trim()));
        }
        options.Validate();
        return options;
    }

    /// <summary>Every option's key and value as text, in declaration order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Values(IDetectorOptions options) =>
        _options.Select(o => KeyValuePair.Create(o.Info.Key, Format(o.Property.GetValue(options)))).ToList();

    /// <summary>The options whose value differs from the default, in declaration order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Changes(IDetectorOptions options) =>
        Values(options).Zip(Values(_defaults)).Where(p => p.First.Value != p.Second.Value).Select(p => p.First).ToList();

    /// <summary>All values as a JSON object (key → text), the form model files and cell specifications store.</summary>
    public JsonObject ToJson(IDetectorOptions options) => new(Values(options).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));

    /// <summary>Options from <see cref="ToJson"/>; keys this Vigil does not know are an error (a model file from another version).</summary>
    public IDetectorOptions FromJson(string model, JsonObject json) =>
        Parse(model, json.ToDictionary(p => p.Key, p => p.Value?.GetValueKind() == JsonValueKind.String ? p.Value.GetValue<string>() : p.Value?.ToJsonString() ?? "none"));

    /// <summary>
    /// Option text as users write it after a model's name: key=value pairs separated by commas. A repeated key or a
    /// pair without '=' is an input error quoting <paramref name="spec"/>.
    /// </summary>
    public static Dictionary<string, string> KeyValues(string spec, string text)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new VigilInputException($"Model spec '{spec}': '{part}' is not key=value (e.g. patchcore:coreset=0.01,layers=layer2+layer3).");
            if (!values.TryAdd(part[..eq].Trim(), part[(eq + 1)..].Trim()))
                throw new VigilInputException($"Model spec '{spec}': option '{part[..eq].Trim()}' is given twice.");
        }
        return values;
    }

    private IDetectorOptions Clone(IDetectorOptions options)
    {
        // Records have a protected copy constructor ("with"); MemberwiseClone copies the same fields.
        var clone = (IDetectorOptions)typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!.Invoke(options, null)!;
        return clone.GetType() == _type ? clone : throw new ArgumentException($"Options of type {options.GetType().Name}, expected {_type.Name}.");
    }

    private static object? Read(string model, OptionInfo info, Type type, string text)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        bool optional = underlying is not null || (!type.IsValueType && type != typeof(string) && !IsList(type));
        if (optional && text.ToLowerInvariant() is "none" or "null" or "off") return null;
        var target = underlying ?? type;
        object? value = null;
        if (target == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)) value = i;
        else if (target == typeof(long) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) value = l;
        else if (target == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) value = d;
        else if (target == typeof(bool) && bool.TryParse(text, out bool b)) value = b;
        else if (target == typeof(string)) value = text;
        else if (target.IsEnum && Enum.GetNames(target).FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } name) value = Enum.Parse(target, name);
        else if (IsList(target)) value = text.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToArray();
        return value ?? throw new VigilInputException(
            $"Model '{model}' option {info.Key}='{text}' is not {Article(info.Type)}{info.Type}{(optional ? " (or none)" : "")}. {info.Key}: {info.Description}");
    }

    private static bool IsList(Type type) => type == typeof(IReadOnlyList<string>) || type == typeof(string[]);

    private static string Article(string type) => type.StartsWith("one of", StringComparison.Ordinal) || type.StartsWith("list", StringComparison.Ordinal) ? "" : "a ";

    private static string TypeName(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(int) || t == typeof(long) ? "whole number"
            : t == typeof(double) ? "number"
            : t == typeof(bool) ? "true/false"
            : t.IsEnum ? "one of " + string.Join("|", Enum.GetNames(t).Select(n => n.ToLowerInvariant()))
            : IsList(t) ? "list joined with +"
            : "text";
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Enum e => e.ToString().ToLowerInvariant(),
        IEnumerable<string> list => string.Join("+", list),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
