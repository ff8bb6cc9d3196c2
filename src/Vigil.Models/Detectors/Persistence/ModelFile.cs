using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Imaging;
using static TorchSharp.torch;

namespace Vigil.Detectors;

/// <summary>
/// The single-file format of a fitted detector: a zip holding model.json (format version, model name, options,
/// backbone reference, tensor shapes) and one raw little-endian entry per tensor (float32, float64 or int64).
/// </summary>
internal static class ModelFile
{
    public const string Format = "vigil-detector";
    public const int FormatVersion = 1;
    private const string ConfigEntry = "model.json";

    /// <param name="Metadata">What the model carries besides its state (calibration, provenance); keys a reader does not know are ignored.</param>
    public sealed record Content(string Model, JsonNode Options, BackboneReference Backbone, Dictionary<string, Tensor> Tensors, JsonObject Metadata);

    public static void Write(string path, string model, JsonNode options, BackboneReference backbone, IReadOnlyDictionary<string, Tensor> tensors,
        JsonObject? metadata = null)
    {
        var shapes = new JsonObject();
        foreach (var (name, tensor) in tensors)
            shapes[name] = new JsonObject
            {
                ["dtype"] = DTypeName(tensor.dtype),
                ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            };
        var config = new JsonObject
        {
            ["format"] = Format,
            ["formatVersion"] = FormatVersion,
            ["model"] = model,
            ["options"] = options,
            ["backbone"] = BackboneToJson(backbone),
            ["tensors"] = shapes,
            ["metadata"] = metadata ?? new JsonObject(),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        var temporary = path + ".partial";
        using (var zip = ZipFile.Open(temporary, ZipArchiveMode.Create))
        {
            using (var writer = new StreamWriter(zip.CreateEntry(ConfigEntry).Open()))
                writer.Write(config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            foreach (var (name, tensor) in tensors)
            {
                using var stream = zip.CreateEntry(TensorEntry(name), CompressionLevel.Fastest).Open();
                WriteTensor(stream, tensor);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static Content Read(string path)
    {
        if (!File.Exists(path)) throw new VigilInputException($"Model file '{path}' does not exist; check the path.");
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var configEntry = zip.GetEntry(ConfigEntry) ?? throw Corrupt(path, $"it has no {ConfigEntry}");
            JsonNode config;
            using (var stream = configEntry.Open()) config = JsonNode.Parse(stream) ?? throw Corrupt(path, $"{ConfigEntry} is empty");
            if ((string?)config["format"] != Format) throw Corrupt(path, $"{ConfigEntry} does not declare format '{Format}'");
            int version = (int?)config["formatVersion"] ?? -1;
            if (version != FormatVersion)
                throw new VigilInputException(
                    $"Model file '{path}' has format version {version}; this Vigil reads version {FormatVersion}. Refit the model with this version of Vigil, or use the Vigil version that wrote it.");
            var model = (string?)config["model"] ?? throw Corrupt(path, "the model name is missing");
            var options = config["options"]?.DeepClone() ?? throw Corrupt(path, "the options are missing");
            var backbone = BackboneFromJson(config["backbone"] ?? throw Corrupt(path, "the backbone reference is missing"));
            foreach (var (name, spec) in (config["tensors"] as JsonObject) ?? throw Corrupt(path, "the tensor list is missing"))
            {
                var shape = spec!["shape"]!.AsArray().Select(s => (long)s!).ToArray();
                var dtype = (string?)spec["dtype"];
                var entry = zip.GetEntry(TensorEntry(name)) ?? throw Corrupt(path, $"tensor '{name}' is missing");
                using var stream = entry.Open();
                tensors[name] = dtype switch
                {
                    "int64" => ReadTensor<long>(stream, shape, name, path),
                    "float32" => ReadTensor<float>(stream, shape, name, path),
                    "float64" => ReadTensor<double>(stream, shape, name, path),
                    _ => throw Corrupt(path, $"tensor '{name}' has unknown type '{dtype}'"),
                };
            }
            return new Content(model, options, backbone, tensors, config["metadata"]?.DeepClone() as JsonObject ?? new JsonObject());
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or InvalidOperationException
                                  or FormatException or NullReferenceException or KeyNotFoundException or ArgumentException or OverflowException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw Corrupt(path, e.Message, e);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Elements per write/read chunk: keeps byte spans far below 2 GiB for multi-GiB statistics.</summary>
    private const long ChunkElements = 1 << 24;

    private static void WriteTensor(Stream stream, Tensor tensor)
    {
        using var flat = tensor.contiguous().view(-1);
        for (long start = 0; start < flat.shape[0]; start += ChunkElements)
        {
            using var chunk = flat.narrow(0, start, Math.Min(ChunkElements, flat.shape[0] - start));
            if (tensor.dtype == ScalarType.Int64) stream.Write(MemoryMarshal.AsBytes(chunk.data<long>().ToArray().AsSpan()));
            else if (tensor.dtype == ScalarType.Float64) stream.Write(MemoryMarshal.AsBytes(chunk.data<double>().ToArray().AsSpan()));
            else stream.Write(MemoryMarshal.AsBytes(chunk.data<float>().ToArray().AsSpan()));
        }
    }

    private static Tensor ReadTensor<T>(Stream stream, long[] shape, string name, string path) where T : unmanaged
    {
        long count = shape.Aggregate(1L, (a, b) => checked(a * b));
        if (shape.Any(s => s < 0) || count > Array.MaxLength) throw Corrupt(path, $"tensor '{name}' has an impossible shape [{string.Join(", ", shape)}]");
        var values = new T[count];
        for (long start = 0; start < count; start += ChunkElements)
            stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan((int)start, (int)Math.Min(ChunkElements, count - start))));
        if (stream.ReadByte() != -1) throw Corrupt(path, $"tensor '{name}' is longer than its shape");
        return values switch
        {
            long[] longs => tensor(longs, shape),
            float[] floats => tensor(floats, shape),
            double[] doubles => tensor(doubles, shape),
            _ => throw new ArgumentException($"Unsupported element type {typeof(T)}."),
        };
    }

    /// <summary>Reads options saved by <see cref="Write"/> back into their record type.</summary>
    public static T OptionsAs<T>(Content content, string path) =>
        content.Options.Deserialize<T>() ?? throw Corrupt(path, "the options are empty");

    public static JsonNode OptionsToJson<T>(T options) => JsonSerializer.SerializeToNode(options)!;

    public static VigilInputException Corrupt(string path, string reason, Exception? inner = null) =>
        new($"Model file '{path}' is corrupt or not a Vigil model ({reason}). Re-save the model from a fitted detector.", inner);

    private static string TensorEntry(string name) => $"tensors/{name}.bin";

    private static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        _ => throw new ArgumentException($"Model files store float32, float64 and int64 tensors, not {type}."),
    };

    private static JsonObject BackboneToJson(BackboneReference b) => new()
    {
        ["name"] = b.Name,
        ["weightsSha256"] = b.WeightsSha256,
        ["layers"] = new JsonArray(b.Layers.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
        ["preprocessing"] = new JsonObject
        {
            ["resizeHeight"] = b.Preprocessing.ResizeHeight,
            ["resizeWidth"] = b.Preprocessing.ResizeWidth,
            ["cropHeight"] = b.Preprocessing.CropHeight,
            ["cropWidth"] = b.Preprocessing.CropWidth,
            ["mean"] = new JsonArray(b.Preprocessing.Mean.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["std"] = new JsonArray(b.Preprocessing.Std.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
        },
    };

    private static BackboneReference BackboneFromJson(JsonNode node)
    {
        var p = node["preprocessing"]!;
        var preprocessing = new Preprocessing((int)p["resizeHeight"]!, (int)p["resizeWidth"]!, (int?)p["cropHeight"], (int?)p["cropWidth"],
            p["mean"]!.AsArray().Select(v => (float)v!).ToArray(), p["std"]!.AsArray().Select(v => (float)v!).ToArray());
        return new BackboneReference((string)node["name"]!, (string)node["weightsSha256"]!,
            node["layers"]!.AsArray().Select(v => (string)v!).ToArray(), preprocessing);
    }
}
