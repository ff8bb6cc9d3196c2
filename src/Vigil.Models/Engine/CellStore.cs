using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Engine;

/// <summary>
/// Finished cells of a benchmark run, one JSON file each under <c>&lt;out&gt;/cells/</c>, so a killed run restarts
/// where it stopped and never recomputes a finished cell. A file is written to a temporary name and renamed into
/// place, so a crash never leaves a half-written cell behind. The file name carries a hash of everything that
/// determines the result (the cell key and the run's configuration), so changing an option recomputes the cell.
/// </summary>
public sealed class CellStore(string outputDirectory)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN metrics are meaningful (see EvaluationResult)
        Converters = { new JsonStringEnumConverter() },
    };

    public string Directory { get; } = Path.Combine(outputDirectory, "cells");

    public bool TryLoad(CellKey key, string configuration, out CellResult? result)
    {
        var path = PathOf(key, configuration);
        result = File.Exists(path) ? JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path), Json) : null;
        return result != null;
    }

    public void Save(CellResult result, string configuration)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(result.Key, configuration);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(result, Json));
        File.Move(temporary, path, overwrite: true);
    }

    private string PathOf(CellKey key, string configuration)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{configuration}")))[..12];
        var safe = string.Join("_", new[] { key.Model, key.Dataset, key.Category, key.Setting, $"seed{key.Seed}" }
            .Select(p => string.Concat(p.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '-'))));
        return Path.Combine(Directory, $"{safe}_{hash}.json");
    }
}
