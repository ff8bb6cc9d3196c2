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
/// options, true becomes a flag, false leaves the flag out. E.g. for bench: <c>models: [patchcore, padim]</c>.
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

    public static string[] Expand(string[] args)
    {
        int at = Array.IndexOf(args, OptionName);
        if (at < 0) return args;
        if (at + 1 >= args.Length) throw new VigilInputException($"{OptionName} needs a file: {OptionName} run.yaml");
        var path = args[at + 1];
        var rest = args.Take(at).Concat(args.Skip(at + 2)).ToList();
        var given = rest.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in Read(path))
        {
            var option = "--" + key.TrimStart('-');
            if (given.Contains(option)) continue;
            foreach (var token in Tokens(option, value, path)) rest.Add(token);
        }
        return [.. rest];
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
            case JsonObject:
                throw new VigilInputException($"Config file '{path}': '{option[2..]}' holds a nested mapping; values must be scalars or lists.");
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
