using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Vigil.Weights.Pickle;

/// <summary>A Python global (module + name) as named by a GLOBAL or STACK_GLOBAL opcode.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>The result of calling a global that the reader has no special meaning for (REDUCE / NEWOBJ).</summary>
internal sealed record PickleObject(PickleGlobal Type, object?[] Arguments)
{
    /// <summary>The state given by BUILD, if any.</summary>
    public object? State { get; set; }
}

/// <summary>A Python dict (insertion-ordered, as Python's are).</summary>
internal sealed class PickleDict
{
    private readonly List<KeyValuePair<object, object?>> _items = [];
    private readonly Dictionary<object, int> _index = [];

    public IReadOnlyList<KeyValuePair<object, object?>> Items => _items;

    /// <summary>Attributes set by BUILD (e.g. OrderedDict._metadata), kept apart from the items.</summary>
    public object? State { get; set; }

    public void Set(object key, object? value)
    {
        if (_index.TryGetValue(key, out int i)) _items[i] = new(key, value);
        else { _index[key] = _items.Count; _items.Add(new(key, value)); }
    }

    public bool TryGet(object key, out object? value)
    {
        if (_index.TryGetValue(key, out int i)) { value = _items[i].Value; return true; }
        value = null;
        return false;
    }
}

/// <summary>
/// A small unpickler for the data Python's pickle protocols 2–5 produce for plain containers: None, bools,
/// ints, floats, str, bytes, tuples, lists, dicts, sets and globals. It never runs code: a call of a global
/// (REDUCE/NEWOBJ) becomes a <see cref="PickleObject"/> unless <see cref="Reduce"/> maps it, and persistent ids
/// go to <see cref="PersistentLoad"/>. Malformed input raises <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class PickleReader(Stream stream)
{
    private readonly BinaryReader _in = new(stream, Encoding.UTF8, leaveOpen: true);
    private readonly Dictionary<long, object?> _memo = [];
    private readonly List<object?> _stack = [];
    private readonly Stack<List<object?>> _marks = new();
    private static readonly object MarkObject = new();

    /// <summary>Turns a persistent id (BINPERSID) into an object; required when the pickle has one.</summary>
    public Func<object?, object?>? PersistentLoad { get; init; }

    /// <summary>Gives meaning to calls of globals; return null to keep the call as a <see cref="PickleObject"/>.</summary>
    public Func<PickleGlobal, object?[], object?>? Reduce { get; init; }

    /// <summary>Reads one pickle, up to and including its STOP opcode.</summary>
    public object? Load()
    {
        _memo.Clear();
        _stack.Clear();
        _marks.Clear();
        while (true)
        {
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO n: nothing to do, every supported opcode is accepted
                case 0x95: _in.ReadUInt64(); break; // FRAME: frames are only a read-ahead hint
                case (byte)'.': return Pop(); // STOP
                case (byte)'(': _marks.Push([.. _stack]); _stack.Clear(); break; // MARK: save stack, start afresh
                case (byte)'0': Pop(); break; // POP
                case (byte)'1': PopMark(); break; // POP_MARK
                case (byte)'2': Push(Peek()); break; // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)_in.ReadInt32()); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)_in.ReadUInt16()); break; // BININT2
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(checked((int)_in.ReadUInt32()))); break; // LONG4
                case (byte)'I': Push(ParseTextInt(ReadLine())); break; // INT (protocol 0, still used for bools)
                case (byte)'L': Push(ParseTextLong(ReadLine())); break; // LONG (protocol 0)
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case (byte)'X': Push(Encoding.UTF8.GetString(ReadBytes(checked((int)_in.ReadUInt32())))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(checked((int)_in.ReadUInt64())))); break; // BINUNICODE8
                case (byte)'T': Push(Encoding.Latin1.GetString(ReadBytes(checked((int)_in.ReadUInt32())))); break; // BINSTRING
                case (byte)'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'B': Push(ReadBytes(checked((int)_in.ReadUInt32()))); break; // BINBYTES
                case (byte)'C': Push(ReadBytes(ReadByte())); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(checked((int)_in.ReadUInt64()))); break; // BINBYTES8
                case 0x96: Push(ReadBytes(checked((int)_in.ReadUInt64()))); break; // BYTEARRAY8
                case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'t': Push(PopMark().ToArray()); break; // TUPLE
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)'l': Push(PopMark()); break; // LIST
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; } // APPEND
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
                case (byte)'d': { var d = new PickleDict(); SetItems(d, PopMark()); Push(d); break; } // DICT
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItems(Peek(), [k, v]); break; } // SETITEM
                case (byte)'u': { var items = PopMark(); SetItems(Peek(), items); break; } // SETITEMS
                case 0x8f: Push(new HashSet<object>()); break; // EMPTY_SET
                case 0x90: { var items = PopMark(); var set = (HashSet<object>)Peek()!; foreach (var i in items) set.Add(i!); break; } // ADDITEMS
                case 0x91: Push(new HashSet<object>(PopMark()!)); break; // FROZENSET
                case (byte)'c': Push(new PickleGlobal(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = (string)Pop()!; var module = (string)Pop()!; Push(new PickleGlobal(module, name)); break; } // STACK_GLOBAL
                case (byte)'R': { var args = AsTuple(Pop()); Push(Call(Pop(), args)); break; } // REDUCE
                case 0x81: { var args = AsTuple(Pop()); Push(Call(Pop(), args)); break; } // NEWOBJ
                case 0x92: { Pop(); var args = AsTuple(Pop()); Push(Call(Pop(), args)); break; } // NEWOBJ_EX (kwargs ignored)
                case (byte)'b': Build(Pop(), Peek()); break; // BUILD
                case (byte)'Q': Push(LoadPersistent(Pop())); break; // BINPERSID
                case (byte)'q': _memo[ReadByte()] = Peek(); break; // BINPUT
                case (byte)'r': _memo[_in.ReadUInt32()] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadByte())); break; // BINGET
                case (byte)'j': Push(Memo(_in.ReadUInt32())); break; // LONG_BINGET
                default:
                    throw new InvalidDataException($"Unsupported pickle opcode 0x{op:x2}.");
            }
        }
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal global)
            throw new InvalidDataException($"Pickle calls a {callable?.GetType().Name ?? "None"}, not a global.");
        if (global is { Module: "collections", Name: "OrderedDict" } or { Module: "builtins", Name: "dict" })
            return new PickleDict();
        return Reduce?.Invoke(global, args) ?? new PickleObject(global, args);
    }

    private static void Build(object? state, object? target)
    {
        switch (target)
        {
            case PickleDict d: d.State = state; break;
            case PickleObject o: o.State = state; break;
            // Other targets (e.g. tensors given hooks state) keep no attributes the reader needs.
        }
    }

    private object? LoadPersistent(object? pid) =>
        (PersistentLoad ?? throw new InvalidDataException("Pickle has a persistent id but no loader was given."))(pid);

    private static void SetItems(object? target, List<object?> items)
    {
        if (target is not PickleDict dict) throw new InvalidDataException("SETITEM(S) on something that is not a dict.");
        if (items.Count % 2 != 0) throw new InvalidDataException("SETITEMS with an odd number of items.");
        for (int i = 0; i < items.Count; i += 2)
            dict.Set(items[i] ?? throw new InvalidDataException("Dict key None is not supported."), items[i + 1]);
    }

    private static List<object?> AsList(object? o) => o as List<object?> ?? throw new InvalidDataException("APPEND(S) on something that is not a list.");

    private static object?[] AsTuple(object? o) => o as object?[] ?? throw new InvalidDataException("Call arguments are not a tuple.");

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"Pickle memo has no entry {key}.");

    private void Push(object? o) => _stack.Add(o);

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new InvalidDataException("Pickle stack is empty.");

    private object? Pop()
    {
        var top = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return top;
    }

    /// <summary>Returns the items pushed since the last MARK and restores the stack below it.</summary>
    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw new InvalidDataException("Pickle has no MARK to pop to.");
        var items = new List<object?>(_stack);
        _stack.Clear();
        _stack.AddRange(_marks.Pop());
        return items;
    }

    private byte ReadByte()
    {
        int b = stream.ReadByte();
        return b >= 0 ? (byte)b : throw new InvalidDataException("Pickle ends before its STOP opcode.");
    }

    private byte[] ReadBytes(int count)
    {
        var bytes = _in.ReadBytes(count);
        return bytes.Length == count ? bytes : throw new InvalidDataException("Pickle ends inside a value.");
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        for (byte b = ReadByte(); b != (byte)'\n'; b = ReadByte()) sb.Append((char)b);
        return sb.ToString();
    }

    /// <summary>Two's-complement little-endian integer; long when it fits, else BigInteger.</summary>
    private object ReadLong(int length)
    {
        var value = new BigInteger(ReadBytes(length), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private static object ParseTextInt(string text) => text switch
    {
        "00" => false,
        "01" => true,
        _ => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static object ParseTextLong(string text)
    {
        var value = BigInteger.Parse(text.TrimEnd('L'), System.Globalization.CultureInfo.InvariantCulture);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }
}
