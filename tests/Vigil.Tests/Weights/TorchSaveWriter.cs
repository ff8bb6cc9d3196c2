using System.IO.Compression;
using System.Text;

namespace Vigil.Tests.Weights;

/// <summary>A tensor to write: its dtype's storage class name, the raw storage bytes and the view into them.</summary>
/// <param name="StorageType">torch storage class, e.g. "FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage".</param>
/// <param name="StorageKey">Tensors with the same key share one storage (as views of one tensor do in PyTorch).</param>
public sealed record TensorEntry(string Name, string StorageType, string StorageKey, byte[] Storage, int ElementSize,
    long Offset, long[] Size, long[] Stride);

/// <summary>
/// Test-only writer of the files <c>torch.save(state_dict, f)</c> produces, opcode for opcode (pickle protocol 2,
/// the default of torch.save), so the reader is tested against the real layout without Python:
/// <code>
/// 80 02                                   PROTO 2
/// 63 "collections\nOrderedDict\n" 71 00   GLOBAL + BINPUT 0
/// 29 52 71 01                             EMPTY_TUPLE, REDUCE (OrderedDict()), BINPUT 1
/// 28                                      MARK (a SETITEMS batch; a single item uses SETITEM 73 instead)
///   58 len "conv.weight" 71 ..            BINUNICODE key, BINPUT
///   63 "torch._utils\n_rebuild_tensor_v2\n" 71 ..   GLOBAL (first use; later BINGET 68 ..)
///   28                                    MARK (argument tuple of 6)
///     28 58 "storage" 63 "torch\nFloatStorage\n" 58 "0" 58 "cpu" 4b numel 74 71 ..   pid tuple
///     51                                  BINPERSID
///     4b offset                           BININT1 (4d BININT2 / 4a BININT for larger ints)
///     4b 03 4b 01 86 71 ..                size tuple (TUPLE1/2/3 85/86/87 up to 3 items, else MARK..TUPLE 74; () is 29)
///     ... stride tuple ...
///     89                                  NEWFALSE (requires_grad)
///     68 00 29 52 71 ..                   OrderedDict() backward hooks: BINGET 0, EMPTY_TUPLE, REDUCE
///   74 71 .. 52 71 ..                     TUPLE, BINPUT, REDUCE, BINPUT
/// 75                                      SETITEMS
/// 7d 71 .. 58 "_metadata" ... 73 62       state {"_metadata": OrderedDict(...)}, SETITEM, BUILD
/// 2e                                      STOP
/// </code>
/// Strings are memoised once per distinct Python object: torch.save's constant strings ("storage", "cpu") and a
/// shared storage's key are re-read with BINGET; tensor names get fresh BINPUTs. The _metadata written holds only
/// the root module's entry ("" → {"version": 1}); PyTorch writes one per submodule, with the same opcodes. Inside the zip: &lt;archive&gt;/data.pkl,
/// &lt;archive&gt;/byteorder ("little"), &lt;archive&gt;/data/&lt;key&gt; raw little-endian storages, &lt;archive&gt;/version
/// ("3\n"), all stored uncompressed. PyTorch additionally pads each entry's local header so data starts 64-byte
/// aligned; that padding is an extra field readers skip, so it is not reproduced.
/// For the state of <see cref="PyTorchCheckpointTests.TinyEntries"/> the pickle was checked byte for byte against
/// CPython's pickler (protocol 2) driven the way torch.save drives it (see <see cref="PythonPickleTests"/>).
/// </summary>
public sealed class TorchSaveWriter
{
    private readonly MemoryStream _out = new();
    private readonly Dictionary<string, int> _memo = []; // globals and torch's constant strings, by identity in Python
    private int _nextMemo;

    /// <summary>Optional wrapping: {wrapperKey: state_dict} as training checkpoints do.</summary>
    public static byte[] Pickle(IReadOnlyList<TensorEntry> tensors, string? wrapperKey = null, bool legacyPersistentIds = false)
    {
        var w = new TorchSaveWriter();
        w.Op(0x80); w.Op(2);
        if (wrapperKey != null)
        {
            w.Op('}'); w.Put();
            w.Unicode(wrapperKey);
        }
        w.StateDict(tensors, legacyPersistentIds);
        if (wrapperKey != null) w.Op('s');
        w.Op('.');
        return w._out.ToArray();
    }

    /// <summary>The zip archive torch.save writes since PyTorch 1.6.</summary>
    public static void WriteZip(string path, IReadOnlyList<TensorEntry> tensors, string? wrapperKey = null, string archiveName = "archive")
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Entry(string name, byte[] data)
        {
            using var s = zip.CreateEntry($"{archiveName}/{name}", CompressionLevel.NoCompression).Open();
            s.Write(data);
        }
        Entry("data.pkl", Pickle(tensors, wrapperKey));
        Entry("byteorder", "little"u8.ToArray());
        foreach (var t in tensors.DistinctBy(t => t.StorageKey)) Entry($"data/{t.StorageKey}", t.Storage);
        Entry("version", "3\n"u8.ToArray());
    }

    /// <summary>
    /// The pre-1.6 format: pickles of the magic number, protocol version 1001 and sys_info, then the state_dict
    /// (persistent ids carry a sixth item, the view metadata None), then the list of storage keys, then per storage
    /// an int64 element count and its raw bytes.
    /// </summary>
    public static void WriteLegacy(string path, IReadOnlyList<TensorEntry> tensors)
    {
        using var f = File.Create(path);
        f.Write([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']);
        f.Write([0x80, 0x02, (byte)'M', 0xe9, 0x03, (byte)'.']);
        var info = new TorchSaveWriter();
        info.Op(0x80); info.Op(2); info.Op('}'); info.Put(); info.Op('(');
        info.Unicode("protocol_version"); info.Int(1001);
        info.Unicode("little_endian"); info.Op(0x88);
        info.Unicode("type_sizes"); info.Op('}'); info.Put(); info.Op('(');
        info.Unicode("short"); info.Int(2); info.Unicode("int"); info.Int(4); info.Unicode("long"); info.Int(4);
        info.Op('u'); info.Op('u'); info.Op('.');
        f.Write(info._out.ToArray());
        f.Write(Pickle(tensors, legacyPersistentIds: true));
        var storages = tensors.DistinctBy(t => t.StorageKey).ToList();
        var keys = new TorchSaveWriter();
        keys.Op(0x80); keys.Op(2); keys.Op(']'); keys.Put(); keys.Op('(');
        foreach (var t in storages) keys.Unicode(t.StorageKey);
        keys.Op('e'); keys.Op('.');
        f.Write(keys._out.ToArray());
        foreach (var t in storages)
        {
            f.Write(BitConverter.GetBytes((long)(t.Storage.Length / t.ElementSize)));
            f.Write(t.Storage);
        }
    }

    private void StateDict(IReadOnlyList<TensorEntry> tensors, bool legacy)
    {
        NewOrderedDict();
        if (tensors.Count > 1) Op('(');
        foreach (var t in tensors)
        {
            Unicode(t.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('(');
            Constant("storage");
            Global("torch", t.StorageType);
            StorageKey(t.StorageKey);
            Constant("cpu");
            Int(t.Storage.Length / t.ElementSize);
            if (legacy) Op('N');
            Op('t'); Put();
            Op('Q');
            Int(t.Offset);
            Tuple(t.Size);
            Tuple(t.Stride);
            Op(0x89);
            NewOrderedDict();
            Op('t'); Put();
            Op('R'); Put();
        }
        Op(tensors.Count > 1 ? 'u' : 's');
        // state: {"_metadata": OrderedDict([("", {"version": 1})])}, as nn.Module.state_dict attaches.
        Op('}'); Put();
        Unicode("_metadata");
        NewOrderedDict();
        Unicode("");
        Op('}'); Put();
        Unicode("version"); Int(1);
        Op('s');
        Op('s');
        Op('s');
        Op('b');
    }

    private void NewOrderedDict()
    {
        Global("collections", "OrderedDict");
        Op(')'); Op('R'); Put();
    }

    private void Global(string module, string name)
    {
        var key = module + "\n" + name;
        if (_memo.TryGetValue(key, out int at)) { Get(at); return; }
        Op('c'); Raw(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        _memo[key] = Put();
    }

    private void Constant(string s)
    {
        if (_memo.TryGetValue("str:" + s, out int at)) { Get(at); return; }
        Unicode(s);
        _memo["str:" + s] = _nextMemo - 1;
    }

    /// <summary>torch.save keeps one key string per storage, so a storage's second view re-reads it with BINGET.</summary>
    private void StorageKey(string key)
    {
        if (_memo.TryGetValue("key:" + key, out int at)) { Get(at); return; }
        Unicode(key);
        _memo["key:" + key] = _nextMemo - 1;
    }

    private void Unicode(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Op('X'); Raw(BitConverter.GetBytes((uint)bytes.Length)); Raw(bytes);
        Put();
    }

    private void Int(long v)
    {
        if (v is >= 0 and < 256) { Op('K'); Op((byte)v); }
        else if (v is >= 0 and < 65536) { Op('M'); Raw(BitConverter.GetBytes((ushort)v)); }
        else if (v is >= int.MinValue and <= int.MaxValue) { Op('J'); Raw(BitConverter.GetBytes((int)v)); }
        else { Op(0x8a); Op(8); Raw(BitConverter.GetBytes(v)); }
    }

    private void Tuple(long[] items)
    {
        if (items.Length == 0) { Op(')'); return; }
        if (items.Length > 3) Op('(');
        foreach (var i in items) Int(i);
        Op(items.Length switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => 't' });
        Put();
    }

    private int Put()
    {
        int at = _nextMemo++;
        if (at < 256) { Op('q'); Op((byte)at); }
        else { Op('r'); Raw(BitConverter.GetBytes((uint)at)); }
        return at;
    }

    private void Get(int at)
    {
        if (at < 256) { Op('h'); Op((byte)at); }
        else { Op('j'); Raw(BitConverter.GetBytes((uint)at)); }
    }

    private void Op(char c) => _out.WriteByte((byte)c);
    private void Op(byte b) => _out.WriteByte(b);
    private void Op(int b) => _out.WriteByte((byte)b);
    private void Raw(byte[] bytes) => _out.Write(bytes);
}
