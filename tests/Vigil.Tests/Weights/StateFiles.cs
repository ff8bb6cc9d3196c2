using TorchSharp;
using static TorchSharp.torch.nn;

namespace Vigil.Tests.Weights;

/// <summary>Turns a module's state into the entries the test writers take, one contiguous storage per tensor.</summary>
public static class StateFiles
{
    public static List<TensorEntry> TorchEntries(Module module) =>
        module.state_dict().Select((kv, i) =>
        {
            var (storageType, safeType, size) = Types(kv.Value.dtype);
            using var c = kv.Value.contiguous();
            var shape = c.shape;
            return new TensorEntry(kv.Key, storageType, i.ToString(), c.bytes.ToArray(), size, 0, shape, ContiguousStrides(shape));
        }).ToList();

    public static List<(string Name, string DType, long[] Shape, byte[] Data)> SafeTensorsEntries(Module module) =>
        module.state_dict().Select(kv =>
        {
            using var c = kv.Value.contiguous();
            return (kv.Key, Types(kv.Value.dtype).Safe, c.shape, c.bytes.ToArray());
        }).ToList();

    public static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    private static (string Storage, string Safe, int Size) Types(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float32 => ("FloatStorage", "F32", 4),
        torch.ScalarType.Int64 => ("LongStorage", "I64", 8),
        _ => throw new NotSupportedException(t.ToString()),
    };

    /// <summary>Same dtype, shape and bytes: bit-identical, stricter than numeric equality.</summary>
    public static bool Identical(torch.Tensor a, torch.Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ca = a.contiguous();
        using var cb = b.contiguous();
        return ca.bytes.SequenceEqual(cb.bytes);
    }

    public static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"vigil-test-{Guid.NewGuid():N}{extension}");
}
