using System.Buffers.Binary;

namespace Vigil.Backbones.Onnx;

/// <summary>Protocol Buffers wire types (the low 3 bits of a field tag).</summary>
public enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>
/// One field of a protobuf message as it appears on the wire: its number, wire type and either the integer value
/// (varint, fixed32, fixed64) or the payload bytes (length-delimited: strings, bytes, nested messages, packed arrays).
/// </summary>
public readonly record struct ProtoField(int Number, WireType Type, ulong Value, ReadOnlyMemory<byte> Payload)
{
    public static ProtoField Varint(int number, ulong value) => new(number, WireType.Varint, value, default);
    public static ProtoField Bytes(int number, ReadOnlyMemory<byte> payload) => new(number, WireType.LengthDelimited, 0, payload);
    public static ProtoField String(int number, string text) => Bytes(number, System.Text.Encoding.UTF8.GetBytes(text));
    public static ProtoField Message(int number, ProtoMessage message) => Bytes(number, message.ToBytes());

    public string AsString() => System.Text.Encoding.UTF8.GetString(Payload.Span);
    public ProtoMessage AsMessage() => ProtoMessage.Parse(Payload);
}

/// <summary>
/// A protobuf message kept as its ordered list of wire fields, without a schema: enough to read and edit ONNX models
/// (no generated classes). Parsing keeps unknown fields, so re-encoding an unmodified message reproduces the input
/// byte for byte (protobuf encoders write tags and lengths as minimal varints, which is what this writes back).
/// </summary>
public sealed class ProtoMessage
{
    public ProtoMessage(IEnumerable<ProtoField>? fields = null) => Fields = fields?.ToList() ?? [];

    /// <summary>The fields in wire order; edit freely (nested messages are re-encoded by <see cref="ToBytes"/> callers).</summary>
    public List<ProtoField> Fields { get; }

    public IEnumerable<ProtoField> All(int number) => Fields.Where(f => f.Number == number);

    public ProtoField? First(int number)
    {
        foreach (var f in Fields) if (f.Number == number) return f;
        return null;
    }

    public static ProtoMessage Parse(ReadOnlyMemory<byte> data)
    {
        var fields = new List<ProtoField>();
        var span = data.Span;
        int pos = 0;
        while (pos < span.Length)
        {
            ulong tag = ReadVarint(span, ref pos);
            int number = checked((int)(tag >> 3));
            var type = (WireType)(tag & 7);
            if (number == 0) throw new FormatException($"Field number 0 at byte {pos}: not a protobuf message.");
            switch (type)
            {
                case WireType.Varint:
                    fields.Add(new ProtoField(number, type, ReadVarint(span, ref pos), default));
                    break;
                case WireType.Fixed64:
                    fields.Add(new ProtoField(number, type, BinaryPrimitives.ReadUInt64LittleEndian(Take(span, ref pos, 8)), default));
                    break;
                case WireType.Fixed32:
                    fields.Add(new ProtoField(number, type, BinaryPrimitives.ReadUInt32LittleEndian(Take(span, ref pos, 4)), default));
                    break;
                case WireType.LengthDelimited:
                    int length = checked((int)ReadVarint(span, ref pos));
                    if (length < 0 || length > span.Length - pos) throw new FormatException($"Field {number} length {length} runs past the end of the message.");
                    fields.Add(new ProtoField(number, type, 0, data.Slice(pos, length)));
                    pos += length;
                    break;
                default:
                    throw new FormatException($"Unsupported wire type {(int)type} (field {number}); groups are not used by ONNX.");
            }
        }
        return new ProtoMessage(fields);
    }

    public byte[] ToBytes()
    {
        var output = new MemoryStream();
        foreach (var f in Fields)
        {
            WriteVarint(output, ((ulong)f.Number << 3) | (ulong)f.Type);
            switch (f.Type)
            {
                case WireType.Varint: WriteVarint(output, f.Value); break;
                case WireType.Fixed64: WriteLittleEndian(output, f.Value, 8); break;
                case WireType.Fixed32: WriteLittleEndian(output, f.Value, 4); break;
                case WireType.LengthDelimited:
                    WriteVarint(output, (ulong)f.Payload.Length);
                    output.Write(f.Payload.Span);
                    break;
            }
        }
        return output.ToArray();
    }

    /// <summary>Values of a repeated integer field, whether written packed (one length-delimited run) or one per tag.</summary>
    public List<long> Int64s(int number)
    {
        var values = new List<long>();
        foreach (var f in All(number))
        {
            if (f.Type == WireType.Varint) values.Add((long)f.Value);
            else if (f.Type == WireType.LengthDelimited)
            {
                var span = f.Payload.Span;
                int pos = 0;
                while (pos < span.Length) values.Add((long)ReadVarint(span, ref pos));
            }
        }
        return values;
    }

    /// <summary>Values of a repeated float field, packed or one per tag.</summary>
    public List<float> Floats(int number)
    {
        var values = new List<float>();
        foreach (var f in All(number))
        {
            if (f.Type == WireType.Fixed32) values.Add(BitConverter.UInt32BitsToSingle((uint)f.Value));
            else if (f.Type == WireType.LengthDelimited)
                for (int i = 0; i + 4 <= f.Payload.Length; i += 4) values.Add(BinaryPrimitives.ReadSingleLittleEndian(f.Payload.Span.Slice(i, 4)));
        }
        return values;
    }

    public static ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= span.Length) throw new FormatException("Truncated varint at the end of the message.");
            byte b = span[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new FormatException("Varint longer than 10 bytes.");
    }

    public static void WriteVarint(Stream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        output.WriteByte((byte)value);
    }

    private static void WriteLittleEndian(Stream output, ulong value, int bytes)
    {
        for (int i = 0; i < bytes; i++) output.WriteByte((byte)(value >> (8 * i)));
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> span, ref int pos, int count)
    {
        if (count > span.Length - pos) throw new FormatException("Fixed-size field runs past the end of the message.");
        var slice = span.Slice(pos, count);
        pos += count;
        return slice;
    }
}
