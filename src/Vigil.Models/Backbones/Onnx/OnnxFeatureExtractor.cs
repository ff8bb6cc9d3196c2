using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Vigil.Imaging;

namespace Vigil.Backbones.Onnx;

/// <summary>A returned feature layer: the name callers use and the graph tensor it reads.</summary>
public sealed record OnnxLayer(string Name, string Tensor);

/// <summary>
/// A frozen ONNX model used as a feature extractor through ONNX Runtime. ONNX Runtime only returns a graph's declared
/// outputs, so the chosen intermediate tensors are added as graph outputs; the original outputs are dropped with the
/// nodes only they needed, so e.g. a classifier head is not computed. Quantised (QOperator) activations are uint8: for
/// those a DequantizeLinear node with the producer's output scale and zero point turns them into float features.
/// </summary>
public sealed class OnnxFeatureExtractor : IFeatureExtractor, IWeightsFingerprint
{
    // Producers of quantised tensors and the positions of their output scale and zero point (ONNX operator specs).
    private static readonly Dictionary<string, (int Scale, int ZeroPoint)> QuantisedOutputParameters = new()
    {
        ["QLinearConv"] = (6, 7),      // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
        ["QLinearAdd"] = (6, 7),       // A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp (com.microsoft)
        ["QLinearMatMul"] = (6, 7),    // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
        ["QuantizeLinear"] = (1, 2),   // x, y_scale, y_zp
        ["QLinearGlobalAveragePool"] = (3, 4), // x, x_scale, x_zp, y_scale, y_zp (com.microsoft)
    };

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames; // per layer
    private readonly string[] _fetchNames;  // distinct, as ONNX Runtime is asked for them
    private readonly bool _batchDimIsDynamic;
    private readonly Func<byte[]> _prepare;
    private readonly int _batchSize;

    private OnnxFeatureExtractor(InferenceSession session, string name, Preprocessing preprocessing,
        IReadOnlyList<string> layers, string[] outputNames, bool randomised, string weightsSha256, Func<byte[]> prepare,
        int batchSize, Func<ResNet>? torchTwin)
    {
        _prepare = prepare;
        _batchSize = batchSize;
        TorchTwin = torchTwin;
        WeightsSha256 = weightsSha256;
        _session = session;
        Name = name;
        Preprocessing = preprocessing;
        Layers = layers;
        _outputNames = outputNames;
        _fetchNames = outputNames.Distinct().ToArray();
        IsRandomlyInitialised = randomised;
        var input = session.InputMetadata.Single();
        _inputName = input.Key;
        _batchDimIsDynamic = input.Value.Dimensions[0] < 0;
        LayerShapes = ProbeLayerShapes();
    }

    public string Name { get; }
    public Preprocessing Preprocessing { get; }
    public IReadOnlyList<string> Layers { get; }
    public IReadOnlyList<(int Channels, int Stride)> LayerShapes { get; }
    public bool IsRandomlyInitialised { get; }

    /// <summary>SHA-256 of the model file, or "random:&lt;seed&gt;" when its weights were shuffled (or, for a graph written in memory, its weights' fingerprint).</summary>
    public string WeightsSha256 { get; }

    /// <summary>
    /// Builds the TorchSharp network a graph written in memory came from (same weights; the caller owns it), for the
    /// detectors that fine-tune their backbone; null for graphs read from a file.
    /// </summary>
    public Func<ResNet>? TorchTwin { get; }

    /// <summary>
    /// Opens the ONNX model at <paramref name="path"/> and returns the given layers. The model must take one image
    /// input [N, C, H, W]; fixed H and W must equal the preprocessing output size. When <paramref name="expectedSha256"/>
    /// is given the file must match it. A <paramref name="randomWeightsSeed"/> shuffles every convolution's weights
    /// (see <see cref="OnnxModel.ShuffleConvolutionWeights"/>) for an untrained baseline. <paramref name="threads"/> caps
    /// ONNX Runtime's intra-op threads (0: its default, one per core).
    /// </summary>
    public static OnnxFeatureExtractor Open(string path, IReadOnlyList<OnnxLayer> layers, Preprocessing preprocessing,
        string? name = null, string? expectedSha256 = null, int? randomWeightsSeed = null, int threads = 0) =>
        Open(path, _ => layers, preprocessing, name ?? Path.GetFileNameWithoutExtension(path), expectedSha256, randomWeightsSeed, threads);

    /// <summary>
    /// As <see cref="Open(string, IReadOnlyList{OnnxLayer}, Preprocessing, string?, string?, int?, int)"/>, choosing the
    /// layers from the parsed graph, after <paramref name="prepareGraph"/> (when given) has edited it, e.g. to make its
    /// input size symbolic.
    /// </summary>
    public static OnnxFeatureExtractor Open(string path, Func<OnnxModel, IReadOnlyList<OnnxLayer>> chooseLayers,
        Preprocessing preprocessing, string name, string? expectedSha256 = null, int? randomWeightsSeed = null, int threads = 0,
        Action<OnnxModel>? prepareGraph = null) =>
        Open($"'{path}'", () => ReadVerified(path, expectedSha256), chooseLayers, preprocessing, name, randomWeightsSeed,
            randomWeightsSeed.HasValue, threads, prepareGraph, batchSize: int.MaxValue, torchTwin: null);

    /// <summary>
    /// Opens a graph written in memory by <paramref name="build"/> (called again by <see cref="ExportGraph"/>, so the
    /// bytes are not kept) whose weights <paramref name="weightsSha256"/> identifies ("random:&lt;seed&gt;" for random
    /// ones). <paramref name="source"/> names the graph in errors; at most <paramref name="batchSize"/> images go
    /// through one run; <paramref name="torchTwin"/>, when given, builds the TorchSharp network the graph was written from.
    /// </summary>
    public static OnnxFeatureExtractor Open(string source, Func<byte[]> build, IReadOnlyList<OnnxLayer> layers, Preprocessing preprocessing,
        string name, string weightsSha256, bool randomised, int batchSize, int threads = 0, Func<ResNet>? torchTwin = null) =>
        Open(source, () => (build(), weightsSha256), _ => layers, preprocessing, name, null, randomised, threads, null, batchSize, torchTwin);

    private static OnnxFeatureExtractor Open(string source, Func<(byte[] Bytes, string Sha256)> read, Func<OnnxModel, IReadOnlyList<OnnxLayer>> chooseLayers,
        Preprocessing preprocessing, string name, int? randomWeightsSeed, bool randomised, int threads, Action<OnnxModel>? prepareGraph,
        int batchSize, Func<ResNet>? torchTwin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (batchSize < 1) throw new VigilInputException($"Batch size {batchSize} must be at least 1.");
        // Kept as a function so that an export re-prepares the very graph this session runs (see ExportGraph).
        Prepared Prepare()
        {
            OnnxModel model;
            var (bytes, sha256) = read();
            try { model = OnnxModel.Parse(bytes); }
            catch (FormatException e)
            {
                throw new VigilInputException($"{source} is not a readable ONNX model ({e.Message}): check that it is an .onnx file and not truncated.", e);
            }
            prepareGraph?.Invoke(model);
            var layers = chooseLayers(model);
            if (layers.Count == 0) throw new ArgumentException("Choose at least one layer.", nameof(layers));
            if (layers.Select(l => l.Name).Distinct().Count() != layers.Count) throw new ArgumentException("Layer names must be distinct.", nameof(layers));
            if (randomWeightsSeed is int seed) model.ShuffleConvolutionWeights(seed);
            var outputNames = ExposeAsFloatOutputs(model, layers, source);
            return new Prepared(model.ToBytes(), layers.Select(l => l.Name).ToList(), outputNames, randomWeightsSeed is int s ? $"random:{s}" : sha256);
        }
        var prepared = Prepare();

        // No arena: ONNX Runtime's arena grows to the largest batch ever run (throughput sweeps, fit batches) and never
        // shrinks; without it activations go to the allocator, which NativeRuntime makes return them.
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = threads, EnableCpuMemArena = false };
        // Its threads would otherwise spin for a while after every run, on the cores where the detector's next steps
        // (libtorch operators, Vigil's parallel loops) then run: PatchCore-1 % predict on MTD at 224², 2 threads, p50
        // 93–114 ms with spinning, 65–74 ms without.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try { session = new InferenceSession(prepared.Model, options); }
        catch (OnnxRuntimeException e)
        {
            throw new VigilInputException($"ONNX Runtime cannot load {source} with the added feature outputs: {e.Message}", e);
        }
        try
        {
            CheckInputAndOutputs(session, preprocessing, source);
            return new OnnxFeatureExtractor(session, name, preprocessing, prepared.Layers, prepared.OutputNames,
                randomised, prepared.Sha256, () => Prepare().Model, batchSize, torchTwin);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private sealed record Prepared(byte[] Model, IReadOnlyList<string> Layers, string[] OutputNames, string Sha256);


    /// <summary>
    /// The graph this extractor runs, prepared again from its file: one float [N, C, H, W] image input normalised by
    /// <see cref="Preprocessing"/> (<see cref="InputName"/>) and one float output per layer (<see cref="LayerOutput"/>),
    /// the nodes nothing else needs removed. What ONNX export builds on.
    /// </summary>
    public byte[] ExportGraph() => _prepare();

    /// <summary>The image input's name in <see cref="ExportGraph"/>.</summary>
    public string InputName => _inputName;

    /// <summary>The graph output holding <paramref name="layer"/> in <see cref="ExportGraph"/>.</summary>
    public string LayerOutput(string layer) => _outputNames[Layers.ToList().IndexOf(layer) is var i and >= 0 ? i
        : throw new ArgumentException($"{Name} returns no layer '{layer}'.", nameof(layer))];

    public IReadOnlyList<torch.Tensor> Extract(IReadOnlyList<ImageTensor> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("Give at least one image.", nameof(images));
        // Grey images are repeated into RGB for RGB networks, as the TorchSharp extractor does; resizing runs on every core.
        var prepared = new ImageTensor[images.Count];
        Parallel.For(0, images.Count, i => prepared[i] = Preprocessing.Apply(
            images[i].Channels == 1 && Preprocessing.Mean.Count == 3 ? ImageOps.ToRgb(images[i], $"Image {i}") : images[i]));
        // A model exported with batch size 1 runs image by image; the per-layer results are concatenated.
        int batchSize = _batchDimIsDynamic ? _batchSize : 1;
        if (prepared.Length <= batchSize) return Run(prepared);
        var batches = prepared.Chunk(batchSize).Select(Run).ToList();
        var result = new List<torch.Tensor>();
        for (int layer = 0; layer < _outputNames.Length; layer++) result.Add(torch.cat(batches.Select(r => r[layer]).ToList(), 0));
        foreach (var tensor in batches.SelectMany(r => r)) tensor.Dispose();
        return result;
    }

    public void Dispose() => _session.Dispose();

    private List<torch.Tensor> Run(IReadOnlyList<ImageTensor> batch)
    {
        int channels = batch[0].Channels, height = batch[0].Height, width = batch[0].Width, plane = channels * height * width;
        var data = new float[batch.Count * plane];
        for (int i = 0; i < batch.Count; i++) batch[i].Data.CopyTo(data, i * plane);
        using var input = OrtValue.CreateTensorValueFromMemory(data, [batch.Count, channels, height, width]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_inputName], [input], _fetchNames);
        var byName = _fetchNames.Zip(outputs).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        // One fresh tensor per layer, so each can be disposed independently.
        return _outputNames.Select(name => CopyToTensor(byName[name])).ToList();
    }

    /// <summary>The output copied once, from ONNX Runtime's buffer straight into libtorch's (no managed array in between).</summary>
    private static torch.Tensor CopyToTensor(OrtValue output)
    {
        var tensor = torch.empty(output.GetTensorTypeAndShape().Shape, torch.float32);
        MemoryMarshal.AsBytes(output.GetTensorDataAsSpan<float>()).CopyTo(tensor.bytes);
        return tensor;
    }

    /// <summary>
    /// Channels and stride of each layer, measured on one blank image (exact whatever the graph's ops). The stride is
    /// the size ratio; when the layer's size does not divide the input's, the ratio rounded to a power of two, the
    /// nominal stride, since each downsampling halves the size rounding up (200 pixels give 13 cells at stride 16).
    /// </summary>
    private List<(int Channels, int Stride)> ProbeLayerShapes()
    {
        var blank = new ImageTensor(Preprocessing.Mean.Count, Preprocessing.OutputHeight, Preprocessing.OutputWidth);
        var features = Run([blank]);
        try
        {
            return features.Select(f =>
            {
                if (f.ndim != 4) throw new VigilInputException($"Layer output of {Name} has shape [{string.Join(", ", f.shape)}]; feature layers must be [N, C, h, w].");
                int size = Preprocessing.OutputHeight, cells = (int)f.shape[2];
                return ((int)f.shape[1], size % cells == 0 ? size / cells : 1 << (int)Math.Round(Math.Log2((double)size / cells)));
            }).ToList();
        }
        finally
        {
            foreach (var f in features) f.Dispose();
        }
    }

    private static (byte[] Bytes, string Sha256) ReadVerified(string path, string? expectedSha256)
    {
        if (!File.Exists(path)) throw new VigilInputException($"ONNX model '{path}' does not exist: check the path.");
        var bytes = File.ReadAllBytes(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (expectedSha256 != null && !string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new VigilInputException($"ONNX model '{path}' has sha256 {actual}, expected {expectedSha256.ToLowerInvariant()}: the file is corrupt or a different model; replace it with the published file.");
        return (bytes, actual);
    }

    /// <summary>Adds one float graph output per layer (dequantising uint8 tensors), dropping the original outputs and the nodes only they needed.</summary>
    private static string[] ExposeAsFloatOutputs(OnnxModel model, IReadOnlyList<OnnxLayer> layers, string source)
    {
        model.ClearOutputs();
        var outputs = new string[layers.Count];
        var exposed = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            var tensor = layers[i].Tensor;
            if (exposed.TryGetValue(tensor, out var existing))
            {
                outputs[i] = existing; // two layer names for one tensor share its output
                continue;
            }
            var producer = model.Producer(tensor);
            if (producer == null)
            {
                var examples = string.Join(", ", model.Nodes.Take(5).Select(n => n.Outputs[0]));
                throw new VigilInputException($"Layer '{layers[i].Name}': {source} has no node output named '{tensor}' (node outputs are e.g. {examples}); pass a tensor name from the graph.");
            }
            if (QuantisedOutputParameters.TryGetValue(producer.OpType, out var parameters) && producer.Inputs.Count > parameters.ZeroPoint)
            {
                outputs[i] = $"{tensor}_vigil_dequantized";
                model.AddNode("DequantizeLinear", $"{tensor}_vigil_DequantizeLinear",
                    [tensor, producer.Inputs[parameters.Scale], producer.Inputs[parameters.ZeroPoint]], [outputs[i]]);
                model.AddOutput(outputs[i], OnnxElementType.Float);
            }
            else
            {
                outputs[i] = tensor;
                model.AddOutput(tensor);
            }
            exposed[tensor] = outputs[i];
        }
        model.RemoveNodesNotFeedingOutputs();
        return outputs;
    }

    private static void CheckInputAndOutputs(InferenceSession session, Preprocessing preprocessing, string source)
    {
        var outputTypes = session.OutputMetadata.Where(o => o.Value.ElementDataType != TensorElementType.Float).Select(o => o.Key).ToList();
        if (outputTypes.Count > 0)
            throw new VigilInputException($"{source}: layer tensors {string.Join(", ", outputTypes)} are not float and their producers are not quantised ops Vigil can dequantise; choose float or QLinear* outputs.");
        if (session.InputMetadata.Count != 1)
            throw new VigilInputException($"{source} has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); a feature extractor needs exactly one image input.");
        var (inputName, input) = session.InputMetadata.Single();
        var dims = input.Dimensions;
        if (dims.Length != 4 || input.ElementDataType != TensorElementType.Float)
            throw new VigilInputException($"{source} input '{inputName}' must be float [N, C, H, W]; it is {input.ElementDataType} [{string.Join(", ", dims)}].");
        if (dims[1] >= 0 && dims[1] != preprocessing.Mean.Count)
            throw new VigilInputException($"{source} input '{inputName}' has {dims[1]} channels but the preprocessing normalises {preprocessing.Mean.Count}.");
        if ((dims[2] >= 0 && dims[2] != preprocessing.OutputHeight) || (dims[3] >= 0 && dims[3] != preprocessing.OutputWidth))
            throw new VigilInputException($"{source} input '{inputName}' is fixed at {dims[2]}x{dims[3]} pixels but the preprocessing produces {preprocessing.OutputHeight}x{preprocessing.OutputWidth}; set the preprocessing to the model's input size.");
    }
}
