using System.Text.Json;
using TorchSharp;
using Vigil.Components.Flows;
using static TorchSharp.torch;

namespace Vigil.Tests.Components.Flows;

/// <summary>
/// The flow components against the reference code's own numbers (Fixtures/flows/freia_reference.json, made by
/// make_fixtures.py from FrEIA, gathierry/FastFlow and gudovskiy/cflow-ad, whose commits it names): the reference's
/// weights are loaded by their names into Vigil's modules, which must then compute the reference's outputs.
/// </summary>
public class FlowReferenceTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "flows", "freia_reference.json"))).RootElement;

    public static TheoryData<string> BlockCases => [.. Reference.GetProperty("blocks").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    /// <summary>One AllInOneBlock: forward, the inverse of its output, and the reverse direction on fresh z, with log-dets.</summary>
    [Theory]
    [MemberData(nameof(BlockCases))]
    public void AllInOneBlockComputesFrEIAsNumbers(string name)
    {
        var c = Reference.GetProperty("blocks").EnumerateArray().Single(b => b.GetProperty("name").GetString() == name);
        var dtype = c.GetProperty("dtype").GetString() == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        double tolerance = dtype == ScalarType.Float64 ? 1e-9 : 2e-4;
        var options = c.GetProperty("options");
        var state = c.GetProperty("state");
        int channels = c.GetProperty("channels").GetInt32(), spatial = c.GetProperty("spatial").GetArrayLength();
        string kind = c.GetProperty("kind").GetString()!;
        using var generator = new Generator(1);
        using var block = new AllInOneBlock(channels, spatial, c.GetProperty("condition_channels").GetInt32(), (input, output) =>
            {
                if (kind == "fc") return FlowSubnets.FullyConnected(input, output, generator);
                // The hidden width ⌊input · ratio⌋ the reference built; + 0.5 keeps the product clear of rounding down.
                long hidden = Shape(state.GetProperty("subnet.0.weight"))[0];
                return FlowSubnets.Convolutional(input, output, kind == "conv1" ? 1 : 3, (hidden + 0.5) / input, generator);
            },
            generator, Number(options, "affine_clamping", 2.0),
            softClamp: name == "current_freia" ? SoftClamp.ScaledTanh : SoftClamp.Tanh,
            globalAffine: Enum.Parse<GlobalAffine>(options.TryGetProperty("global_affine_type", out var type) ? type.GetString()! : "SOFTPLUS", ignoreCase: true),
            permuteSoft: Flag(options, "permute_soft"), ginBlock: Flag(options, "gin_block"), reversePermutation: Flag(options, "reverse_permutation"));
        block.to(dtype);
        LoadState(block, state);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? condition = c.TryGetProperty("c", out var cond) ? Values(cond, dtype) : null;

        var (y, logDet) = block.Forward(Values(c.GetProperty("x"), dtype), condition);
        AssertClose(c.GetProperty("y"), y, tolerance);
        AssertClose(c.GetProperty("log_jac_det"), logDet, tolerance);
        var (back, logDetBack) = block.Forward(y, condition, reverse: true);
        AssertClose(c.GetProperty("x_back"), back, tolerance);
        AssertClose(c.GetProperty("log_jac_det_back"), logDetBack, tolerance);
        var (xOfZ, logDetOfZ) = block.Forward(Values(c.GetProperty("z"), dtype), condition, reverse: true);
        AssertClose(c.GetProperty("x_of_z"), xOfZ, tolerance);
        AssertClose(c.GetProperty("log_jac_det_of_z"), logDetOfZ, tolerance);
    }

    /// <summary>fastflow.py's class FastFlow on fixed features: z and log-det per layer, the loss and the anomaly map.</summary>
    [Fact]
    public void FastFlowHeadComputesTheReferencesFlowLossAndMap()
    {
        var r = Reference.GetProperty("fastflow");
        var layers = r.GetProperty("layers").EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetInt32()).ToArray())
            .Select(l => (l[0], l[1], l[2])).ToList();
        using var head = new FastFlowHead(layers, seed: 3, flowSteps: r.GetProperty("flow_steps").GetInt32());
        head.to(ScalarType.Float64);
        LoadState(head, r.GetProperty("state"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        var flows = head.Forward([.. r.GetProperty("features").EnumerateArray().Select(f => Values(f, ScalarType.Float64))]);
        for (int l = 0; l < layers.Count; l++)
        {
            AssertClose(r.GetProperty("z")[l], flows[l].Z, 1e-9);
            AssertClose(r.GetProperty("log_jac_det")[l], flows[l].LogDet, 1e-9);
        }
        Assert.Equal(r.GetProperty("loss").GetDouble(), FastFlowHead.Loss(flows).item<double>(), 1e-9);
        var size = r.GetProperty("input_size");
        AssertClose(r.GetProperty("anomaly_map"), FastFlowHead.AnomalyMap(flows.Select(f => f.Z), size[0].GetInt32(), size[1].GetInt32()), 1e-12);
    }

    /// <summary>
    /// cflow-ad's freia_cflow_head decoders on the fibres and positional encodings of fixed features (test_meta_epoch):
    /// z, log-det, log-likelihood per dimension, loss; then train()'s map normalisation over the batch and the image scores.
    /// </summary>
    [Fact]
    public void CFlowDecoderComputesTheReferencesLikelihoodLossAndMap()
    {
        var r = Reference.GetProperty("cflow");
        int conditions = r.GetProperty("condition_vec").GetInt32();
        var logLikelihoods = new List<Tensor>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int l = 0; l < r.GetProperty("layers").GetArrayLength(); l++)
        {
            var features = Values(r.GetProperty("features")[l], ScalarType.Float64);
            var (b, c, h, w) = (features.shape[0], (int)features.shape[1], (int)features.shape[2], (int)features.shape[3]);
            using var decoder = CFlowDecoder.Create(c, seed: 5, r.GetProperty("coupling_blocks").GetInt32(), r.GetProperty("clamp_alpha").GetDouble(), conditions);
            decoder.to(ScalarType.Float64);
            LoadState(decoder, r.GetProperty("decoders")[l]);
            decoder.eval();
            var (z, logDet) = decoder.Forward(CFlowDecoder.Fibers(features), CFlowDecoder.Conditions(conditions, (int)b, h, w).to_type(ScalarType.Float64));
            AssertClose(r.GetProperty("z")[l], z, 1e-9);
            AssertClose(r.GetProperty("log_jac_det")[l], logDet, 1e-9);
            var logProb = CFlowDecoder.LogLikelihoodPerDimension(z, logDet);
            AssertClose(r.GetProperty("log_prob")[l], logProb, 1e-9);
            AssertClose(r.GetProperty("loss")[l], CFlowDecoder.Loss(logProb), 1e-9);
            logLikelihoods.Add(logProb.reshape(b, h, w));
        }
        var crop = r.GetProperty("crop_size");
        var map = CFlowDecoder.AnomalyMaps(logLikelihoods, crop[0].GetInt32(), crop[1].GetInt32());
        AssertClose(r.GetProperty("anomaly_map"), map, 1e-9);
        var scores = r.GetProperty("image_scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
        for (int i = 0; i < scores.Length; i++) Assert.Equal(scores[i], map[i].max().item<double>(), 1e-9);
    }

    /// <summary>model.py's positionalencoding2d, computed in float32 like the reference.</summary>
    [Fact]
    public void PositionalEncodingIsCFlowsBitForBit()
    {
        foreach (var p in Reference.GetProperty("positional_encoding").EnumerateArray())
        {
            using var encoding = PositionalEncoding.TwoDimensional(p.GetProperty("d").GetInt32(), p.GetProperty("h").GetInt32(), p.GetProperty("w").GetInt32());
            AssertClose(p.GetProperty("p"), encoding, 1e-6);
        }
    }

    /// <summary>Copies the reference's state into <paramref name="module"/>: the same names, shapes, nothing left over.</summary>
    private static void LoadState(nn.Module module, JsonElement state)
    {
        var own = module.state_dict();
        Assert.Equal(state.EnumerateObject().Select(p => p.Name).Order(), own.Keys.Order());
        using var noGrad = no_grad();
        foreach (var (name, tensor) in own)
        {
            var saved = state.GetProperty(name);
            Assert.Equal(Shape(saved), tensor.shape);
            using var values = Values(saved, ScalarType.Float64);
            tensor.copy_(values.to_type(tensor.dtype));
        }
    }

    private static long[] Shape(JsonElement t) => [.. t.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64())];

    private static Tensor Values(JsonElement t, ScalarType dtype) =>
        tensor(t.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray(), Shape(t), ScalarType.Float64).to_type(dtype);

    private static void AssertClose(JsonElement expected, Tensor actual, double tolerance)
    {
        Assert.Equal(Shape(expected), actual.shape);
        var want = expected.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var got = actual.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tolerance * Math.Max(1, Math.Abs(want[i])), $"element {i}: expected {want[i]}, got {got[i]}");
    }

    private static double Number(JsonElement options, string name, double fallback) =>
        options.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;

    private static bool Flag(JsonElement options, string name) => options.TryGetProperty(name, out var v) && v.GetBoolean();
}
