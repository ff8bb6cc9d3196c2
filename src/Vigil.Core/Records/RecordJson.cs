using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Records;

/// <summary>How records are written as JSON (results store, artifacts, hashes): NaN metrics are meaningful, enums by name.</summary>
public static class RecordJson
{
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static readonly JsonSerializerOptions Compact = new(Indented) { WriteIndented = false };
}
