using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Vigil.Backbones;
using static TorchSharp.torch;

namespace Vigil.Detectors.Persistence;

/// <summary>
/// The single-file format of a deployed model: a zip holding <c>manifest.json</c> (format and version, model, options,
/// backbone reference, calibration, provenance, and every state entry with its type and shape) and the state entries
/// (raw little-endian tensors: float32, float64 or int64; or JSON). The zip's comment, the file's last
/// <see cref="HashLength"/> bytes, is the SHA-256 of every byte before it: the whole file is verified on load, so a
/// damaged or edited file is refused by name instead of giving wrong maps. The file appears only when complete
/// (written beside it, then moved into place).
/// </summary>
public static class ModelArchive
{
    public const string Format = "vigil-model";
    public const int FormatVersion = 2;
    internal const string ManifestEntry = "manifest.json";

    /// <summary>Hex characters of the SHA-256 that ends the file (the zip comment).</summary>
    internal const int HashLength = 64;

    /// <summary>
    /// Writes <paramref name="manifest"/> and the state <paramref name="writeState"/> adds. The file at
    /// <paramref name="path"/> is replaced only once everything is written; on any failure no file is left behind.
    /// </summary>
    public static void Write(string path, JsonObject manifest, Action<ModelArchiveWriter> writeState)
    {
        var full = System.IO.Path.GetFullPath(path);
        var temporary = full + ".partial";
        try
        {
            using (var writer = new ModelArchiveWriter(temporary))
            {
                writeState(writer);
                writer.Complete(manifest);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Opens a model file and verifies all of it (manifest hash, every entry's hash, no unlisted entry, format version).
    /// A missing, damaged or foreign file is a <see cref="VigilInputException"/> naming it.
    /// </summary>
    public static ModelArchiveReader Open(string path)
    {
        if (!File.Exists(path)) throw new VigilInputException($"Model file '{path}' does not exist; check the path.");
        ZipArchive? zip = null;
        try
        {
            VerifyChecksum(path);
            zip = ZipFile.OpenRead(path);
            var manifest = JsonNode.Parse(ReadAll(zip, ManifestEntry, path)) as JsonObject ?? throw Corrupt(path, "the manifest is not a JSON object");
            if ((string?)manifest["format"] != Format) throw Corrupt(path, $"the manifest does not declare format '{Format}'");
            int version = (int?)manifest["formatVersion"] ?? -1;
            if (version != FormatVersion)
                throw new VigilInputException(
                    $"Model file '{path}' has format version {version}; this Vigil reads version {FormatVersion}. Train the model again with this Vigil, or use the Vigil version that wrote it.");
            var entries = manifest["entries"] as JsonObject ?? throw Corrupt(path, "the manifest lists no entries");
            foreach (var entry in zip.Entries)
                if (entry.FullName != ManifestEntry && !entries.ContainsKey(entry.FullName))
                    throw Corrupt(path, $"it holds '{entry.FullName}', which its manifest does not list");
            foreach (var (name, _) in entries)
                if (zip.GetEntry(name) is null) throw Corrupt(path, $"entry '{name}' is missing");
            var reader = new ModelArchiveReader(path, zip, manifest, entries);
            zip = null; // owned by the reader now
            return reader;
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or IOException
                                  or FormatException or InvalidOperationException or ArgumentException)
        {
            throw Corrupt(path, e.Message, e);
        }
        finally
        {
            zip?.Dispose();
        }
    }

    public static VigilInputException Corrupt(string path, string reason, Exception? inner = null) =>
        new($"Model file '{path}' is damaged or not a Vigil model ({reason}). Copy it again from where it was trained, or train it again.", inner);

    /// <summary>Writes the SHA-256 of everything before the file's last <see cref="HashLength"/> bytes into them (the zip comment).</summary>
    internal static void WriteChecksum(FileStream file)
    {
        file.Position = 0;
        var hash = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(Sha256Of(file, file.Length - HashLength)));
        file.Position = file.Length - HashLength;
        file.Write(hash);
    }

    private static void VerifyChecksum(string path)
    {
        using var file = File.OpenRead(path);
        if (file.Length < HashLength + 22) throw Corrupt(path, "it is too short to be a model file");
        var recorded = new byte[HashLength];
        file.Position = file.Length - HashLength;
        file.ReadExactly(recorded);
        file.Position = 0;
        if (Encoding.ASCII.GetString(recorded) != Convert.ToHexStringLower(Sha256Of(file, file.Length - HashLength)))
            throw Corrupt(path, "its content does not match its checksum");
    }

    /// <summary>SHA-256 of the next <paramref name="count"/> bytes of <paramref name="stream"/>.</summary>
    private static byte[] Sha256Of(Stream stream, long count)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = count; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) throw new EndOfStreamException();
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        return hash.GetHashAndReset();
    }

    private static byte[] ReadAll(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw Corrupt(path, $"it has no {name}");
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    internal static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        _ => throw new ArgumentException($"Model files store float32, float64 and int64 tensors, not {type}."),
    };
}

/// <summary>Adds state entries to a model file being written (see <see cref="ModelArchive.Write"/>).</summary>
public sealed class ModelArchiveWriter : IDisposable
{
    /// <summary>Elements per write chunk: keeps byte spans far below 2 GiB for multi-GiB statistics.</summary>
    internal const long ChunkElements = 1 << 24;

    private readonly FileStream _file;
    private readonly ZipArchive _zip;
    private readonly JsonObject _entries = [];

    internal ModelArchiveWriter(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path);
        if (directory is { Length: > 0 }) Directory.CreateDirectory(directory);
        _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
        _zip = new ZipArchive(_file, ZipArchiveMode.Create, leaveOpen: true);
    }

    /// <summary>Writes a float32, float64 or int64 tensor under <paramref name="name"/> (e.g. "memory_bank").</summary>
    public void WriteTensor(string name, Tensor tensor)
    {
        var spec = new JsonObject
        {
            ["dtype"] = ModelArchive.DTypeName(tensor.dtype),
            ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
        };
        Add(TensorEntry(name), spec, stream =>
        {
            using var flat = tensor.contiguous().view(-1);
            for (long start = 0; start < flat.shape[0]; start += ChunkElements)
            {
                using var chunk = flat.narrow(0, start, Math.Min(ChunkElements, flat.shape[0] - start));
                stream.Write(chunk.bytes); // straight from the tensor's memory: a bank of hundreds of megabytes makes no managed copy
            }
        });
    }

    /// <summary>Writes detector metadata (e.g. a seed a reloaded detector continues with) under <paramref name="name"/>.</summary>
    public void WriteJson(string name, JsonNode json) =>
        Add(JsonEntry(name), [], stream => stream.Write(Encoding.UTF8.GetBytes(json.ToJsonString())));

    internal static string TensorEntry(string name) => $"state/{name}.bin";
    internal static string JsonEntry(string name) => $"state/{name}.json";

    private void Add(string entryName, JsonObject spec, Action<Stream> write)
    {
        if (_entries.ContainsKey(entryName)) throw new ArgumentException($"Entry '{entryName}' is written twice.");
        using (var stream = _zip.CreateEntry(entryName, CompressionLevel.Fastest).Open()) write(stream);
        _entries[entryName] = spec;
    }

    internal void Complete(JsonObject manifest)
    {
        manifest["format"] = ModelArchive.Format;
        manifest["formatVersion"] = ModelArchive.FormatVersion;
        manifest["entries"] = _entries.DeepClone();
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        using (var stream = _zip.CreateEntry(ModelArchive.ManifestEntry).Open()) stream.Write(bytes);
        _zip.Comment = new string('0', ModelArchive.HashLength); // the zip comment ends the file: the checksum's place
        _zip.Dispose();
        ModelArchive.WriteChecksum(_file);
        _file.Flush(flushToDisk: true); // the file is moved into place next: its bytes must be on disk first
    }

    public void Dispose()
    {
        _zip.Dispose();
        _file.Dispose();
    }
}

/// <summary>A verified model file (see <see cref="ModelArchive.Open"/>): its manifest and state entries.</summary>
public sealed class ModelArchiveReader : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly JsonObject _entries;

    internal ModelArchiveReader(string path, ZipArchive zip, JsonObject manifest, JsonObject entries) =>
        (Path, _zip, Manifest, _entries) = (path, zip, manifest, entries);

    /// <summary>The model file, for messages.</summary>
    public string Path { get; }

    public JsonObject Manifest { get; }

    /// <summary>The backbone the model was fitted with, as its manifest records it; null for a model without a frozen backbone.</summary>
    public BackboneReference? Backbone
    {
        get
        {
            if (Manifest["backbone"] is not JsonObject node) return null;
            try { return BackboneReference.FromJson(node); }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw Corrupt($"its backbone reference cannot be read ({e.Message})", e);
            }
        }
    }

    /// <summary>The backbone reference of a detector that runs a frozen backbone; a missing one is a corrupt-file error.</summary>
    public BackboneReference RequireBackbone() => Backbone ?? throw Corrupt("the backbone reference is missing");

    /// <summary>The tensor <paramref name="name"/> with <paramref name="rank"/> dimensions; missing or other-rank state is a corrupt-file error.</summary>
    public Tensor ReadTensor(string name, int rank) => TryReadTensor(name, rank) ?? throw Corrupt($"tensor '{name}' is missing");

    /// <summary>The tensor <paramref name="name"/> when the file holds it (state only some fits keep), else null.</summary>
    public Tensor? TryReadTensor(string name, int rank)
    {
        var entryName = ModelArchiveWriter.TensorEntry(name);
        if (_entries[entryName] is not JsonObject spec) return null;
        try
        {
            var shape = spec["shape"]!.AsArray().Select(s => (long)s!).ToArray();
            if (shape.Length != rank) throw Corrupt($"tensor '{name}' has {shape.Length} dimensions instead of {rank}");
            using var stream = _zip.GetEntry(entryName)!.Open();
            return (string?)spec["dtype"] switch
            {
                "int64" => Read(stream, shape, ScalarType.Int64, name),
                "float32" => Read(stream, shape, ScalarType.Float32, name),
                "float64" => Read(stream, shape, ScalarType.Float64, name),
                var other => throw Corrupt($"tensor '{name}' has unknown type '{other}'"),
            };
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException
                                  or InvalidOperationException or NullReferenceException or OverflowException)
        {
            throw Corrupt(e.Message, e);
        }
    }

    /// <summary>The JSON entry <paramref name="name"/> written with <see cref="ModelArchiveWriter.WriteJson"/>.</summary>
    public JsonNode ReadJson(string name)
    {
        var entryName = ModelArchiveWriter.JsonEntry(name);
        if (!_entries.ContainsKey(entryName)) throw Corrupt($"'{name}' is missing");
        using var stream = _zip.GetEntry(entryName)!.Open();
        try { return JsonNode.Parse(stream) ?? throw Corrupt($"'{name}' is empty"); }
        catch (JsonException e) { throw Corrupt($"'{name}' is not JSON ({e.Message})", e); }
    }

    /// <summary>A corrupt-file error naming this file.</summary>
    public VigilInputException Corrupt(string reason, Exception? inner = null) => ModelArchive.Corrupt(Path, reason, inner);

    /// <summary>Reads the tensor straight into native memory (no managed copy of a bank of hundreds of megabytes).</summary>
    private Tensor Read(Stream stream, long[] shape, ScalarType dtype, string name)
    {
        long count = shape.Aggregate(1L, (a, b) => checked(a * b));
        if (shape.Any(s => s < 0) || count > Array.MaxLength) throw Corrupt($"tensor '{name}' has an impossible shape [{string.Join(", ", shape)}]");
        var result = empty(shape, dtype);
        try
        {
            using var flat = result.view(-1);
            for (long start = 0; start < count; start += ModelArchiveWriter.ChunkElements)
            {
                using var chunk = flat.narrow(0, start, Math.Min(ModelArchiveWriter.ChunkElements, count - start));
                stream.ReadExactly(chunk.bytes);
            }
            if (stream.ReadByte() != -1) throw Corrupt($"tensor '{name}' is longer than its shape");
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose() => _zip.Dispose();
}
