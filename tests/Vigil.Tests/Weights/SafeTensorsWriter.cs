using System.Text;
using System.Text.Json;

namespace Vigil.Tests.Weights;

/// <summary>
/// Test-only .safetensors writer following the published layout: u64 little-endian header size, the JSON header
/// (padded with spaces to a multiple of 8 bytes, as the reference implementation does), then the tensors' bytes
/// back to back in header order.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)> tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new { dtype = t.DType, shape = t.Shape, data_offsets = new[] { offset, offset + t.Data.Length } };
            offset += t.Data.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((ulong)padded));
        f.Write(json);
        f.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (var t in tensors) f.Write(t.Data);
    }
}
