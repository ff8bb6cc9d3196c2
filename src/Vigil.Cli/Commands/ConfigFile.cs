using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Vigil.Cli.Commands;

/// <summary>
/// --config FILE: a YAML or JSON file whose keys are a command's long option names (without "--"), turned into the
/// options they stand for before parsing; options given on the command line win over the file. Lists become repeated
/// options, true becomes a flag, false leaves the flag out. E.g. for bench: <c>models: [patchcore, padim]</c>. Models
/// also take their options as a mapping, the keys of 'vigil models':
/// <c>models: {patchcore: {coreset: 0.01, layers: [layer2, layer3]}, padim: {}}</c> is <c>-m patchcore:coreset=0.01,layers=layer2+layer3 -m padim</c>.
/// </summary>
internal static class ConfigFile
{
    public const string OptionName = "--config";

    /// <summary>Shown in every command's help; the tokens are consumed by <see cref="Expand"/> before parsing.</summary>
    public static Option<string> Option() => new(OptionName)
    {
        Description = "YAML or JSON file of option values (keys = long option names without '--'); command-line options win.",
        Recursive = true,
    };

    public const string PresetOptionName = "--preset";

    /// <summary>Built-in configurations, applied like a config file.</summary>
    public static IReadOnlyDictionary<string, (string Description, JsonObject Values)> Presets { get; } = new Dictionary<string, (string, JsonObject)>
    {
        // Every Vigil model that learns without labels (supervised ones have no cell in this table); a model that cannot
        // learn task after task gets "not applicable" continual rows. The official schedules: -m overrides (e.g. stpm-cpu).
        ["imiad-table13"] = ("the shape of IM-IAD Table XIII: every unsupervised model on MTD and KolektorSDD, vanilla, noisy-0.15, few-shot-8 and continual (MTD then KSDD)",
            new JsonObject
            {
                ["models"] = new JsonArray("patchcore", "padim", "spade", "cfa", "stpm", "rd4ad", "fastflow", "cflow", "simplenet", "draem", "cutpaste", "dne", "regad", "igd"),
                ["datasets"] = new JsonArray("mtd", "ksdd"),
                ["setting"] = new JsonArray("unsupervised", "noisy:ratio=0.15", "fewshot:k=8", "continual"),
            }),
    };

    /// <summary>Offered by `vigil bench`, the command the presets are made for.</summary>
    public static Option<string> PresetOption() => new(PresetOptionName)
    {
        Description = $"Built-in option values (command-line options win): {string.Join(", ", Presets.Keys)} (see docs/deployment.md).",
    };

    /// <summary>The arguments with --config/--preset replaced by the options they hold (not those given on the command line, by name or alias).</summary>
    public static string[] Expand(RootCommand root, string[] args)
    {
        var command = root.Subcommands.FirstOrDefault(c => args.Length > 0 && c.Name == args[0]);
        var aliases = (command?.Options ?? []).SelectMany(o => o.Aliases.Select(a => (Alias: a, o.Name))).ToDictionary(p => p.Alias, p => p.Name);
        var rest = args.ToList();
        foreach (var (name, read) in new (string, Func<string, JsonObject>)[] { (OptionName, Read), (PresetOptionName, Preset) })
        {
            int at = rest.IndexOf(name);
            if (at < 0) continue;
            if (at + 1 >= rest.Count) throw new VigilInputException($"{name} needs a value, e.g. {name} {(name == OptionName ? "run.yaml" : Presets.Keys.First())}.");
            var source = rest[at + 1];
            rest.RemoveRange(at, 2);
            Apply(rest, read(source), source, aliases);
        }
        return [.. rest];
    }

    private static JsonObject Preset(string name) => Presets.TryGetValue(name, out var preset) ? (JsonObject)preset.Values.DeepClone()
        : throw new VigilInputException($"Unknown preset '{name}'. Presets: {string.Join(", ", Presets.Keys)}.");

    private static void Apply(List<string> rest, JsonObject values, string path, IReadOnlyDictionary<string, string> aliases)
    {
        var given = rest.Where(a => a.StartsWith('-')).Select(a => aliases.GetValueOrDefault(a, a)).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            var option = "--" + key.TrimStart('-');
            if (given.Contains(option)) continue;
            foreach (var token in Tokens(option, value, path)) rest.Add(token);
        }
    }

    private static IEnumerable<string> Tokens(string option, JsonNode? value, string path)
    {
        switch (value)
        {
            case null:
                yield break;
            case JsonArray list:
                foreach (var item in list)
                    foreach (var token in Tokens(option, item, path)) yield return token;
                yield break;
            case JsonObject models when option is "--models" or "--model":
                foreach (var (name, options) in models)
                {
                    yield return option;
                    yield return ModelSpec(name, options, path);
                }
                yield break;
            case JsonObject:
                throw new VigilInputException($"Config file '{path}': '{option[2..]}' holds a nested mapping; values must be scalars or lists (only 'models' maps model names to their options).");
            default:
                var text = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
                if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) yield return option;
                else if (!text.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    yield return option;
                    yield return text;
                }
                yield break;
        }
    }

    /// <summary>A model's name and options mapping as the spec -m takes: name:key=value,… with lists joined by '+'.</summary>
    private static string ModelSpec(string name, JsonNode? options, string path)
    {
        if (options is null) return name;
        if (options is not JsonObject values)
            throw new VigilInputException($"Config file '{path}': model '{name}' must map to its options (key: value), e.g. {name}: {{coreset: 0.01}}.");
        var pairs = values.Select(p => $"{p.Key}={(p.Value is JsonArray list ? string.Join("+", list.Select(Text)) : Text(p.Value))}").ToList();
        return pairs.Count == 0 ? name : $"{name}:{string.Join(",", pairs)}";
    }

    private static string Text(JsonNode? value) => value is null ? "none"
        : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    /// <summary>The top-level mapping of a JSON (.json) or YAML (anything else) file.</summary>
    private static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new VigilInputException($"Config file '{path}' does not exist.");
        var text = File.ReadAllText(path);
        try
        {
            var node = Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase)
                ? JsonNode.Parse(text)
                : JsonSerializer.SerializeToNode(new DeserializerBuilder().Build().Deserialize<object>(text));
            return node as JsonObject ?? throw new VigilInputException($"Config file '{path}' must hold a mapping of option names to values.");
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new VigilInputException($"Config file '{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Every option of the invoked command with the value it resolved to (given, from the file, or default), as JSON.</summary>
    public static string Resolved(ParseResult parse)
    {
        var resolved = new JsonObject { ["command"] = parse.CommandResult.Command.Name };
        foreach (var option in parse.CommandResult.Command.Options)
        {
            var result = parse.GetResult(option);
            if (result is null && !option.HasDefaultValue) continue;
            var value = result?.GetValueOrDefault<object?>() ?? (option.HasDefaultValue ? option.GetDefaultValue() : null);
            resolved[option.Name.TrimStart('-')] = JsonSerializer.SerializeToNode(value);
        }
        foreach (var argument in parse.CommandResult.Command.Arguments)
            resolved[argument.Name] = JsonSerializer.SerializeToNode(parse.GetResult(argument)?.GetValueOrDefault<object?>());
        return resolved.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
