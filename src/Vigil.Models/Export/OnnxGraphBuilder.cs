using Google.Protobuf;
using Vigil.Export.Proto;

namespace Vigil.Export;

/// <summary>
/// Appends nodes and constant tensors to an ONNX graph (the classes protoc generates from Export/Proto/onnx.proto).
/// Every tensor it creates gets a fresh "vigil/…" name, so it never collides with a merged backbone's names; nodes
/// are appended in the order they are added, which keeps the graph topologically sorted when inputs come first.
/// </summary>
internal sealed class OnnxGraphBuilder(GraphProto graph)
{
    private int _count;

    public GraphProto Graph { get; } = graph;

    /// <summary>A fresh tensor name with <paramref name="hint"/> in it.</summary>
    public string Name(string hint) => $"vigil/{hint}_{_count++}";

    /// <summary>Adds a node of the default domain writing one new tensor and returns that tensor's name.</summary>
    public string Op(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        Op(opType, inputs, 1, attributes)[0];

    public string[] Op(string opType, IReadOnlyList<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Name(opType)).ToArray();
        var node = new NodeProto { OpType = opType, Name = names[0] };
        node.Input.AddRange(inputs);
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>A float constant of shape <paramref name="dims"/> (row-major values).</summary>
    public string Floats(string hint, ReadOnlySpan<float> values, params long[] dims)
    {
        if (values.Length != dims.Aggregate(1L, (a, d) => a * d)) throw new ArgumentException($"{values.Length} values do not fill [{string.Join(", ", dims)}].");
        return Constant(hint, TensorProto.Types.DataType.Float, dims, ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)));
    }

    public string Float(string hint, float value) => Floats(hint, [value]);

    /// <summary>An int64 constant (shapes, axes, indices) of shape [values.Length].</summary>
    public string Int64s(string hint, params long[] values) =>
        Constant(hint, TensorProto.Types.DataType.Int64, [values.Length], ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));

    private string Constant(string hint, TensorProto.Types.DataType type, long[] dims, ByteString raw)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian.");
        var tensor = new TensorProto { Name = Name(hint), DataType = (int)type, RawData = raw };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attribute(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A graph input or output: a tensor of <paramref name="type"/> with fixed (number) or named (string) dims.</summary>
    public static ValueInfoProto TensorInfo(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string param ? new TensorShapeProto.Types.Dimension { DimParam = param }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
