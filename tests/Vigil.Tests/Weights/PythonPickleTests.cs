using Vigil.Weights;

namespace Vigil.Tests.Weights;

/// <summary>
/// Reads a pickle made by CPython 3.13's own pickler at protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL),
/// emulating torch.save's reduce and persistent_id for the tiny state dict of <see cref="PyTorchCheckpointTests"/>,
/// wrapped as a training checkpoint {"model": state_dict, "epoch": 3, "lr": 0.1, "names": ["a", "b"], "flags": {1, 2}}.
/// An independent reference for the reader: it was not produced by this project's writer. Made with
/// <c>pickle.Pickler(buf, protocol=4)</c>, <c>persistent_id</c> returning ('storage', torch.FloatStorage, key, 'cpu', numel)
/// and tensors reducing to (torch._utils._rebuild_tensor_v2, (storage, offset, size, stride, False, OrderedDict())),
/// where torch, torch._utils and the storage classes were stand-in modules. Protocol 5 gave the same bytes but the
/// PROTO operand.
/// </summary>
public class PythonPickleTests
{
    private const string Protocol4Pickle =
        "gASVhwIAAAAAAAB9lCiMBW1vZGVslIwLY29sbGVjdGlvbnOUjAtPcmRlcmVkRGljdJSTlClSlCiMCDAud2VpZ2h0lIwMdG9yY2gu" +
        "X3V0aWxzlIwSX3JlYnVpbGRfdGVuc29yX3YylJOUKCiMB3N0b3JhZ2WUjAV0b3JjaJSMDEZsb2F0U3RvcmFnZZSTlIwBMJSMA2Nw" +
        "dZRLBnSUUUsAKEsDSwJLAUsBdJQoSwFLA0sBSwF0lIloBClSlHSUUpSMBjAuYmlhc5RoCSgoaApoC4wLSGFsZlN0b3JhZ2WUk5SM" +
        "ATGUaA9LBXSUUUsBSwOFlEsBhZSJaAQpUpR0lFKUjAgxLndlaWdodJRoCSgoaApoC4wPQkZsb2F0MTZTdG9yYWdllJOUjAEylGgP" +
        "SwN0lFFLAEsDhZRLAYWUiWgEKVKUdJRSlIwGMS5iaWFzlGgJKChoCmgNjAEzlGgPSwZ0lFFLAEsDhZRLAYWUiWgEKVKUdJRSlIwO" +
        "MS5ydW5uaW5nX21lYW6UaAkoKGgKaA1oK2gPSwZ0lFFLA0sDhZRLAYWUiWgEKVKUdJRSlIwNMS5ydW5uaW5nX3ZhcpRoCSgoaApo" +
        "DYwBNJRoD0sDdJRRSwBLA4WUSwGFlIloBClSlHSUUpSMFTEubnVtX2JhdGNoZXNfdHJhY2tlZJRoCSgoaApoC4wLTG9uZ1N0b3Jh" +
        "Z2WUk5SMATWUaA9LAXSUUUsAKSmJaAQpUpR0lFKUdX2UjAlfbWV0YWRhdGGUaAQpUpSMAJR9lIwHdmVyc2lvbpRLAXNzc2KMBWVw" +
        "b2NolEsDjAJscpRHP7mZmZmZmZqMBW5hbWVzlF2UKIwBYZSMAWKUZYwFZmxhZ3OUj5QoSwFLApB1Lg==";

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void CPythonPickleOfCheckpointLoadsExactValues(byte protocol)
    {
        var pickle = Convert.FromBase64String(Protocol4Pickle);
        pickle[1] = protocol;
        var path = StateFiles.TempPath(".pth");
        try
        {
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            {
                void Entry(string name, byte[] data)
                {
                    using var s = zip.CreateEntry(name).Open();
                    s.Write(data);
                }
                Entry("x/data.pkl", pickle);
                foreach (var storage in PyTorchCheckpointTests.TinyEntries().DistinctBy(e => e.StorageKey))
                    Entry("x/data/" + storage.StorageKey, storage.Storage);
            }
            using var m = PyTorchCheckpointTests.TinyModule();
            using (var state = WeightFile.Read(path)) StateDictLoader.Load(m, state);
            PyTorchCheckpointTests.AssertTinyValues(m);
        }
        finally { File.Delete(path); }
    }
}
