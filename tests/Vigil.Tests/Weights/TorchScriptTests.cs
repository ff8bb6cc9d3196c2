using System.IO.Compression;
using System.Text;
using Vigil.Weights;

namespace Vigil.Tests.Weights;

/// <summary>
/// TorchSharp 0.107 can load and save TorchScript modules (torch.jit.load / torch.jit.save) but cannot create one
/// (no scripting or tracing; torch.jit.compile yields a CompilationUnit of functions, not a module). So the test
/// writes the archive torch.jit.save produces by hand and lets libtorch itself load it:
/// <code>
/// archive/version                 "3"  (file format version; libtorch reads 1..current)
/// archive/constants.pkl           pickle of the empty constants tuple: 80 02 29 2e
/// archive/code/__torch__.py       the module classes as TorchScript source (the serialized Python subset)
/// archive/data.pkl                pickle of the module object: GLOBAL "__torch__\nTiny", EMPTY_TUPLE, NEWOBJ, then
///                                 {attribute: value} and BUILD; tensors as in torch.save (_rebuild_tensor_v2 of a
///                                 persistent ('storage', torch.FloatStorage, key, 'cpu', numel))
/// archive/data/&lt;key&gt;            raw little-endian storages
/// </code>
/// </summary>
public class TorchScriptTests
{
    private const string Code = """
        class Tiny(Module):
          __parameters__ = ["weight", ]
          __buffers__ = ["running", ]
          weight : Tensor
          running : Tensor
          training : bool
          sub : __torch__.Sub
          def forward(self: __torch__.Tiny,
            x: Tensor) -> Tensor:
            return torch.add(torch.mul(x, self.weight), self.running)
        class Sub(Module):
          __parameters__ = ["weight", ]
          __buffers__ = []
          weight : Tensor
          training : bool
          def forward(self: __torch__.Sub,
            x: Tensor) -> Tensor:
            return torch.mul(x, self.weight)

        """;

    private sealed class Pickler
    {
        public readonly MemoryStream Out = new();
        public void Op(params byte[] b) => Out.Write(b);
        public void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Op((byte)'X'); Op(BitConverter.GetBytes(b.Length)); Op(b); }
        public void Global(string module, string name) { Op((byte)'c'); Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }
        public void Int(int v) { Op((byte)'J'); Op(BitConverter.GetBytes(v)); }

        public void Tensor(string key, int numel)
        {
            Global("torch._utils", "_rebuild_tensor_v2");
            Op((byte)'(');
            Op((byte)'('); Str("storage"); Global("torch", "FloatStorage"); Str(key); Str("cpu"); Int(numel); Op((byte)'t');
            Op((byte)'Q');
            Int(0);
            Int(numel); Op(0x85);
            Int(1); Op(0x85);
            Op(0x89);
            Global("collections", "OrderedDict"); Op((byte)')', (byte)'R');
            Op((byte)'t', (byte)'R');
        }

        public void Module(string type, Action attributes)
        {
            Global("__torch__", type); Op((byte)')', 0x81);
            Op((byte)'}', (byte)'(');
            attributes();
            Op((byte)'u', (byte)'b');
        }
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void TorchScriptModuleParametersAndBuffersAreReadByName()
    {
        var p = new Pickler();
        p.Op(0x80, 2);
        p.Module("Tiny", () =>
        {
            p.Str("training"); p.Op(0x89);
            p.Str("weight"); p.Tensor("0", 3);
            p.Str("running"); p.Tensor("1", 3);
            p.Str("sub"); p.Module("Sub", () => { p.Str("training"); p.Op(0x89); p.Str("weight"); p.Tensor("2", 3); });
        });
        p.Op((byte)'.');

        var path = StateFiles.TempPath(".pt");
        try
        {
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                void Entry(string name, byte[] data)
                {
                    using var s = zip.CreateEntry("archive/" + name, CompressionLevel.NoCompression).Open();
                    s.Write(data);
                }
                Entry("data.pkl", p.Out.ToArray());
                Entry("code/__torch__.py", Encoding.UTF8.GetBytes(Code));
                Entry("constants.pkl", [0x80, 2, (byte)')', (byte)'.']);
                Entry("data/0", Floats(1, 2, 3));
                Entry("data/1", Floats(-0.5f, 0.25f, 8));
                Entry("data/2", Floats(7, 8, 9));
                Entry("version", "3"u8.ToArray());
            }
            using var state = WeightFile.Read(path);
            Assert.Equal(["weight", "sub.weight", "running"], state.Keys);
            Assert.Equal([1f, 2, 3], state["weight"].data<float>().ToArray());
            Assert.Equal([7f, 8, 9], state["sub.weight"].data<float>().ToArray());
            Assert.Equal([-0.5f, 0.25f, 8], state["running"].data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }
}
