using Vigil.Backbones.Onnx;
using Vigil.Imaging;

namespace Vigil.Tests.Backbones.Onnx;

/// <summary>
/// A two-node ONNX model written field by field from onnx.proto (input [N, 3, H, W] with symbolic H and W,
/// AveragePool 2x2 stride 2 → "pooled", Relu → "output"): checks the generic extractor on a float graph with
/// dynamic spatial size, reading an intermediate tensor that is not a graph output.
/// </summary>
public class HandBuiltModelTests
{
    private static ProtoField Text(int number, string text) => ProtoField.String(number, text);
    private static ProtoField Sub(int number, params ProtoField[] fields) => ProtoField.Message(number, new ProtoMessage(fields));

    private static byte[] PoolThenReluModel()
    {
        // TensorShapeProto.Dimension: dim_value = 1, dim_param = 2; attribute type INTS = 7.
        var shape = Sub(2, Sub(1, Text(2, "N")), Sub(1, ProtoField.Varint(1, 3)), Sub(1, Text(2, "H")), Sub(1, Text(2, "W")));
        var floatImage = Sub(2, Sub(1, ProtoField.Varint(1, 1), shape));
        ProtoField Ints(string name, params ulong[] values) =>
            Sub(5, [Text(1, name), .. values.Select(v => ProtoField.Varint(8, v)), ProtoField.Varint(20, 7)]);
        var pool = Sub(1, Text(1, "image"), Text(2, "pooled"), Text(3, "pool"), Text(4, "AveragePool"), Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        var relu = Sub(1, Text(1, "pooled"), Text(2, "output"), Text(3, "relu"), Text(4, "Relu"));
        var graph = Sub(7, pool, relu, Text(2, "g"), Sub(11, Text(1, "image"), floatImage), Sub(12, Text(1, "output")));
        return new ProtoMessage([ProtoField.Varint(1, 8), graph, Sub(8, Text(1, ""), ProtoField.Varint(2, 13))]).ToBytes();
    }

    [Fact]
    public void IntermediateFloatTensorOfADynamicSizeGraphIsReturnedAsComputed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-pool-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, PoolThenReluModel());
        try
        {
            var preprocessing = new Preprocessing(256, 256);
            using var extractor = OnnxFeatureExtractor.Open(path, [new OnnxLayer("pooled", "pooled")], preprocessing);
            Assert.Equal([(3, 2)], extractor.LayerShapes);

            var random = new Random(4);
            var image = new ImageTensor(3, 256, 256);
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = random.NextSingle();
            using var pooled = extractor.Extract([image])[0];
            Assert.Equal([1L, 3, 128, 128], pooled.shape);

            var normalised = preprocessing.Apply(image);
            var actual = pooled.data<float>().ToArray();
            int checkedNegative = 0;
            for (int c = 0; c < 3; c++)
            for (int y = 0; y < 128; y += 9)
            for (int x = 0; x < 128; x += 7)
            {
                float expected = (normalised[c, 2 * y, 2 * x] + normalised[c, 2 * y, 2 * x + 1] + normalised[c, 2 * y + 1, 2 * x] + normalised[c, 2 * y + 1, 2 * x + 1]) / 4;
                Assert.Equal(expected, actual[(c * 128 + y) * 128 + x], 1e-5f);
                if (expected < 0) checkedNegative++; // negative values prove this is the tensor before the Relu
            }
            Assert.True(checkedNegative > 0);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void DocumentThatIsNotProtobufIsRejectedWithTheFileNamed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-text-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "this is not a model");
        try
        {
            var error = Assert.Throws<VigilInputException>(() => OnnxFeatureExtractor.Open(path, [new OnnxLayer("x", "x")], new Preprocessing(8, 8)));
            Assert.Contains(path, error.Message);
        }
        finally { File.Delete(path); }
    }
}
