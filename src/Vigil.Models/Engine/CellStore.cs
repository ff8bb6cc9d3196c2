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

    /// <summary>Every finished cell in the store, in file-name order; an unreadable file is a <see cref="VigilInputException"/> naming it.</summary>
    public IReadOnlyList<CellResult> LoadAll()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var cells = new List<CellResult>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                cells.Add(JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path), Json)
                          ?? throw new VigilInputException($"Cell file {path} holds JSON null; delete it and rerun its cell."));
            }
            catch (JsonException e)
            {
                throw new VigilInputException($"Cell file {path} is not a valid cell ({e.Message}); delete it and rerun its cell.", e);
            }
        }
        return cells;
    }

    /// <summary>The artifacts folder for a cell (see <see cref="CellArtifacts"/>): beside its JSON file, with the same name.</summary>
    public string ArtifactsDirectory(CellKey key, string configuration) => Path.ChangeExtension(PathOf(key, configuration), null);

    private string PathOf(CellKey key, string configuration)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{configuration}")))[..12];
        var safe = string.Join("_", new[] { key.Model, key.Dataset, key.Category, key.Setting, $"seed{key.Seed}" }
            .Select(p => string.Concat(p.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '-'))));
        return Path.Combine(Directory, $"{safe}_{hash}.json");
    }
}
