using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;

namespace Vigil.Weights.Formats;

/// <summary>
/// Reads .safetensors files: an unsigned 64-bit little-endian header length N, N bytes of JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>, then the
/// raw little-endian tensor bytes; offsets count from the first byte after the header.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>True when the file starts with a plausible header length followed by '{'.</summary>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> head) =>
        head.Length >= 9 && head[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(head) < 100_000_000;

    public static StateDict Read(string path)
    {
        using var file = File.OpenRead(path);
        var lengthBytes = new byte[8];
        if (file.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8) throw Damaged(path, "it is shorter than its 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)Math.Max(0, file.Length - 8)) throw Damaged(path, $"its header length {headerLength} exceeds the file");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;

        var result = new StateDict(path);
        try
        {
            using var json = JsonDocument.Parse(header);
            foreach (var entry in json.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var (type, elementSize) = DType(path, entry.Name, entry.Value.GetProperty("dtype").GetString());
                var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != count * elementSize || dataStart + offsets[1] > file.Length)
                    throw Damaged(path, $"tensor '{entry.Name}' has data_offsets [{string.Join(", ", offsets)}] that do not fit its shape [{string.Join(", ", shape)}] or the file");
                var bytes = new byte[offsets[1] - offsets[0]];
                file.Position = dataStart + offsets[0];
                file.ReadExactly(bytes);
                var tensor = torch.empty(shape, type);
                if (bytes.Length > 0) tensor.bytes = bytes;
                result.Add(entry.Name, tensor);
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            result.Dispose();
            throw Damaged(path, $"its JSON header is malformed: {e.Message}");
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static (torch.ScalarType, int) DType(string path, string name, string? dtype) => dtype switch
    {
        "F32" => (torch.ScalarType.Float32, 4),
        "F16" => (torch.ScalarType.Float16, 2),
        "BF16" => (torch.ScalarType.BFloat16, 2),
        "F64" => (torch.ScalarType.Float64, 8),
        "I64" => (torch.ScalarType.Int64, 8),
        "I32" => (torch.ScalarType.Int32, 4),
        "I16" => (torch.ScalarType.Int16, 2),
        "I8" => (torch.ScalarType.Int8, 1),
        "U8" => (torch.ScalarType.Byte, 1),
        "BOOL" => (torch.ScalarType.Bool, 1),
        _ => throw new VigilInputException($"{path}: tensor '{name}' has dtype {dtype ?? "(none)"}, which Vigil cannot read; convert it to F32, F16, BF16 or I64."),
    };

    private static VigilInputException Damaged(string path, string why) =>
        new($"{path} is not a valid .safetensors file: {why}.");
}
