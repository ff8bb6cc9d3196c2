using System.IO.Compression;
using System.Text;
using TorchSharp;
using Vigil.Weights.Pickle;

namespace Vigil.Weights.Formats;

/// <summary>
/// Reads a state_dict saved with <c>torch.save</c> (.pth / .pt) without Python. The format since PyTorch 1.6 is a
/// zip archive: <c>&lt;name&gt;/data.pkl</c> pickles the object, and each tensor in it is
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)</c> where the storage is a
/// persistent id <c>('storage', torch.FloatStorage, key, location, numel)</c> whose raw little-endian bytes are the
/// archive entry <c>&lt;name&gt;/data/&lt;key&gt;</c>. The pre-1.6 "legacy" format (a sequence of pickles followed by
/// the raw storages) is read as well, since several torchvision downloads still use it.
/// Checkpoints that wrap the weights (<c>{"state_dict": ...}</c>, <c>{"model": ...}</c>) and the "module." prefix of
/// DataParallel are unwrapped.
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>Pickle of the legacy format's magic number 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 bytes.</summary>
    private static readonly byte[] LegacyMagic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    private static readonly string[] WrapperKeys = ["state_dict", "model", "model_state_dict"];

    /// <summary>True when the file starts like a zip archive or a legacy torch.save pickle.</summary>
    public static bool LooksLikeCheckpoint(ReadOnlySpan<byte> head) =>
        head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith(LegacyMagic);

    /// <summary>Reads the state_dict in <paramref name="path"/>; throws <see cref="VigilInputException"/> naming the file when it cannot.</summary>
    public static StateDict Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            var head = new byte[LegacyMagic.Length];
            int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            file.Position = 0;
            if (head.AsSpan(0, n).StartsWith(LegacyMagic))
            {
                try
                {
                    return ReadLegacy(file, path);
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException or InvalidCastException or IndexOutOfRangeException or NullReferenceException)
                {
                    throw new VigilInputException($"{path} is in PyTorch's legacy (pre-1.6) format and could not be read ({e.Message}). " +
                        "Re-save it with PyTorch ≥ 1.6: torch.save(torch.load(f), f2).", e);
                }
            }
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            return ReadZip(zip, path);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or InvalidCastException or IndexOutOfRangeException)
        {
            throw new VigilInputException($"{path} is not a readable PyTorch state_dict ({e.Message}). " +
                "Save the weights with torch.save(model.state_dict(), path), or convert them to .safetensors.", e);
        }
    }

    private static StateDict ReadZip(ZipArchive zip, string path)
    {
        var pickleEntry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw new InvalidDataException("the zip archive has no <name>/data.pkl, so it was not written by torch.save");
        var prefix = pickleEntry.FullName[..^"data.pkl".Length];
        if (zip.GetEntry(prefix + "constants.pkl") != null)
            throw new VigilInputException($"{path} is a TorchScript module, not a state_dict; load it as TorchScript (.pt from torch.jit.save).");
        if (zip.GetEntry(prefix + "byteorder") is { } order && ReadText(order) != "little")
            throw new VigilInputException($"{path} was saved on a big-endian machine; re-save it on a little-endian one.");

        object? root;
        using (var pickle = pickleEntry.Open()) root = Unpickle(pickle, legacy: false);
        return Materialize(root, path, (key, _) =>
        {
            var entry = zip.GetEntry(prefix + "data/" + key) ?? throw new InvalidDataException($"storage data/{key} is missing");
            using var s = entry.Open();
            var bytes = new byte[entry.Length];
            s.ReadExactly(bytes);
            return bytes;
        });
    }

    /// <summary>
    /// Legacy layout: pickles of the magic number, the protocol version (1001) and system info, then the object,
    /// then the list of storage keys, then per key an int64 element count followed by the raw storage bytes.
    /// </summary>
    private static StateDict ReadLegacy(Stream file, string path)
    {
        var reader = new PickleReader(file);
        reader.Load(); // magic number
        if (reader.Load() is not 1001L) throw new InvalidDataException("unknown legacy protocol version");
        if (reader.Load() is PickleDict info && info.TryGet("little_endian", out var little) && little is false)
            throw new VigilInputException($"{path} was saved on a big-endian machine; re-save it on a little-endian one.");
        var root = Unpickle(file, legacy: true);
        var keys = (List<object?>)new PickleReader(file).Load()!;
        var storages = new Dictionary<string, byte[]>();
        using var bin = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        var sizes = CollectStorageElementSizes(root);
        foreach (var key in keys.Cast<string>())
        {
            long count = bin.ReadInt64();
            // A storage no tensor refers to still occupies bytes; assume 4-byte elements only if unknown.
            int elementSize = sizes.GetValueOrDefault(key, 4);
            int length = checked((int)(count * elementSize));
            storages[key] = bin.ReadBytes(length);
            if (storages[key].Length != length) throw new InvalidDataException($"storage {key} is cut short");
        }
        return Materialize(root, path, (key, _) => storages.TryGetValue(key, out var b) ? b : throw new InvalidDataException($"storage {key} is missing"));
    }

    private static object? Unpickle(Stream stream, bool legacy) =>
        new PickleReader(stream) { PersistentLoad = pid => ToStorage(pid, legacy), Reduce = RebuildTensor }.Load();

    /// <summary>A storage named by a persistent id; legacy views carry an element offset into their root storage.</summary>
    private sealed record StorageRef(string Key, torch.ScalarType Type, int ElementSize, long ElementOffset);

    /// <summary>A tensor as the pickle describes it, built once all storage bytes are at hand.</summary>
    private sealed record TensorSpec(StorageRef Storage, long Offset, long[] Size, long[] Stride);

    private static StorageRef ToStorage(object? pid, bool legacy)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage")
            throw new InvalidDataException($"unknown persistent id {Describe(pid)}");
        var typeName = ((PickleGlobal)t[1]!).Name;
        var (type, size) = StorageType(typeName);
        var key = (string)t[2]!;
        long viewOffset = 0;
        if (legacy && t.Length >= 6 && t[5] is object?[] { Length: 3 } view)
        {
            // (view_key, offset, size): a view into storage `key` starting `offset` elements in.
            viewOffset = (long)view[1]!;
        }
        return new StorageRef(key, type, size, viewOffset);
    }

    private static (torch.ScalarType Type, int ElementSize) StorageType(string name) => name switch
    {
        "FloatStorage" => (torch.ScalarType.Float32, 4),
        "HalfStorage" => (torch.ScalarType.Float16, 2),
        "BFloat16Storage" => (torch.ScalarType.BFloat16, 2),
        "DoubleStorage" => (torch.ScalarType.Float64, 8),
        "LongStorage" => (torch.ScalarType.Int64, 8),
        "IntStorage" => (torch.ScalarType.Int32, 4),
        "ShortStorage" => (torch.ScalarType.Int16, 2),
        "CharStorage" => (torch.ScalarType.Int8, 1),
        "ByteStorage" => (torch.ScalarType.Byte, 1),
        "BoolStorage" => (torch.ScalarType.Bool, 1),
        _ => throw new InvalidDataException($"unsupported storage type torch.{name}"),
    };

    private static object? RebuildTensor(PickleGlobal fn, object?[] args) => (fn.Module, fn.Name) switch
    {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) and its older 4-argument form.
        ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_tensor") =>
            new TensorSpec((StorageRef)args[0]!, (long)args[1]!, Longs(args[2]), Longs(args[3])),
        // nn.Parameter(data, requires_grad, hooks): the data is what counts.
        ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state") => args[0],
        _ => null,
    };

    private static long[] Longs(object? tuple) => ((object?[])tuple!).Select(v => (long)v!).ToArray();

    private static Dictionary<string, int> CollectStorageElementSizes(object? root)
    {
        var sizes = new Dictionary<string, int>();
        void Walk(object? o)
        {
            switch (o)
            {
                case TensorSpec t: sizes[t.Storage.Key] = t.Storage.ElementSize; break;
                case PickleDict d: foreach (var kv in d.Items) Walk(kv.Value); break;
                case List<object?> l: foreach (var v in l) Walk(v); break;
                case object?[] a: foreach (var v in a) Walk(v); break;
            }
        }
        Walk(root);
        return sizes;
    }

    /// <summary>Finds the state_dict in the unpickled object and builds its tensors from the storage bytes.</summary>
    private static StateDict Materialize(object? root, string path, Func<string, StorageRef, byte[]> storageBytes)
    {
        var dict = FindStateDict(root, path);
        var entries = new List<(string Key, TensorSpec Spec)>();
        foreach (var (k, v) in dict.Items)
        {
            if (k is not string key) throw new VigilInputException($"{path} has a non-text key {Describe(k)} in its state_dict.");
            if (v is not TensorSpec spec)
                throw new VigilInputException($"{path}: state_dict entry '{key}' is a {Describe(v)}, not a tensor. Save model.state_dict() only.");
            entries.Add((key, spec));
        }
        // DataParallel/DistributedDataParallel prefix every key with "module."; the plain model has none.
        bool stripModule = entries.Count > 0 && entries.All(e => e.Key.StartsWith("module.", StringComparison.Ordinal));

        var result = new StateDict(path);
        var storages = new Dictionary<string, torch.Tensor>();
        try
        {
            foreach (var (key, spec) in entries)
            {
                if (!storages.TryGetValue(spec.Storage.Key, out var storage))
                {
                    var bytes = storageBytes(spec.Storage.Key, spec.Storage);
                    if (bytes.Length % spec.Storage.ElementSize != 0)
                        throw new InvalidDataException($"storage {spec.Storage.Key} has {bytes.Length} bytes, not a whole number of {spec.Storage.Type} elements");
                    storage = torch.empty(bytes.Length / spec.Storage.ElementSize, spec.Storage.Type);
                    storage.bytes = bytes;
                    storages[spec.Storage.Key] = storage;
                }
                long needed = spec.Storage.ElementOffset + spec.Offset + spec.Size.Zip(spec.Stride, (s, st) => s == 0 ? 0 : (s - 1) * st).Sum() + 1;
                if (spec.Size.Any(s => s == 0)) needed = 0;
                if (needed > storage.shape[0])
                    throw new InvalidDataException($"tensor '{key}' reaches past the end of its storage");
                // A copy, so the result owns compact memory and never aliases a shared storage.
                using var view = storage.as_strided(spec.Size, spec.Stride, spec.Storage.ElementOffset + spec.Offset);
                result.Add(stripModule ? key["module.".Length..] : key, view.clone());
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    private static PickleDict FindStateDict(object? root, string path)
    {
        if (root is not PickleDict dict)
            throw new VigilInputException($"{path} holds a {Describe(root)}, not a state_dict. " +
                "If it is a whole pickled model, re-save its weights: torch.save(model.state_dict(), path).");
        if (dict.Items.Any(kv => kv.Value is TensorSpec) || dict.Items.Count == 0) return dict;
        foreach (var key in WrapperKeys)
            if (dict.TryGet(key, out var inner)) return FindStateDict(inner, path);
        throw new VigilInputException($"{path} holds a dict without tensors (keys: {string.Join(", ", dict.Items.Select(kv => Describe(kv.Key)))}); " +
            $"expected a state_dict or a checkpoint with one under {string.Join(" / ", WrapperKeys.Select(k => $"\"{k}\""))}.");
    }

    private static string ReadText(ZipArchiveEntry entry)
    {
        using var r = new StreamReader(entry.Open());
        return r.ReadToEnd().Trim();
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        string s => $"'{s}'",
        PickleObject p => $"{p.Type} object",
        PickleGlobal g => g.ToString(),
        _ => o.GetType().Name,
    };
}
