using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Vigil.Backbones.Onnx;
using Vigil.Components;
using Vigil.Deployment;
using Vigil.Detectors.FrozenFeatures;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using Vigil.Export.Proto;
using Vigil.Imaging;
using static Vigil.Export.OnnxGraphBuilder;
using DataType = Vigil.Export.Proto.TensorProto.Types.DataType;

namespace Vigil.Export;

/// <summary>
/// A deployed model as one ONNX graph from raw pixels to image score and anomaly map (docs/deployment.md, "ONNX
/// export"): Vigil's preprocessing, the backbone's own graph (the one its ONNX Runtime extractor runs), the
/// detector's scoring as tensor operations on its fitted state stored as constants, the map's upsampling and
/// Gaussian smoothing, the map at the input's size, and the calibration as outputs and metadata.
/// </summary>
public static class OnnxExport
{
    public const string Input = "image";
    public const string ScoreOutput = "score", MapOutput = "anomaly_map";
    public const string NormalisedScoreOutput = "normalised_score", AnomalousOutput = "anomalous", DefectMaskOutput = "defect_mask";

    /// <summary>The models that export; the scoring of each is written out in <see cref="DetectorHeads"/>.</summary>
    public static IReadOnlyList<string> SupportedModels { get; } = [PatchCoreDetector.ModelName, PadimDetector.ModelName];

    /// <summary>The ai.onnx operator set the graph needs (Resize's half_pixel, ReduceSum's axes input; the backbone's older nodes run under it).</summary>
    public const int Opset = 17;

    /// <summary>The ONNX model bytes of <paramref name="model"/>; <paramref name="source"/> names it in errors and metadata.</summary>
    public static byte[] Export(DeployedModel model, string source)
    {
        var detector = model.Detector;
        if (!SupportedModels.Contains(detector.Model))
            throw new VigilInputException($"'{source}' holds a {detector.Model} model; ONNX export supports {string.Join(" and ", SupportedModels)}.");
        var frozen = (FrozenFeatureDetector)detector;
        if (frozen.Extractor is not OnnxFeatureExtractor extractor)
            throw new VigilInputException(
                $"'{source}' uses backbone {frozen.Extractor.Name}, which runs in TorchSharp; ONNX export needs an ONNX backbone " +
                $"({ResNet18ImageNet.Name} or {MobileNetV2Int8.Name}): train with --backbone {ResNet18ImageNet.Name}.");
        var preprocessing = extractor.Preprocessing;
        if (preprocessing.Mode != ResizeMode.Stretch || preprocessing.Filter != ResizeFilter.Bilinear || preprocessing.CropHeight != null)
            throw new VigilInputException(
                $"'{source}' resizes with {preprocessing.Mode}/{preprocessing.Filter}{(preprocessing.CropHeight is int c ? $" and a {c}-pixel crop" : "")}; " +
                "ONNX export supports Vigil's default geometry only (stretch, bilinear, no crop).");

        var onnx = new ModelProto
        {
            IrVersion = 8, ProducerName = "vigil", ProducerVersion = VigilBuild.Version,
            Graph = new GraphProto { Name = $"vigil-{detector.Model}" },
            DocString = InputContract(preprocessing),
        };
        var g = new OnnxGraphBuilder(onnx.Graph);
        onnx.Graph.Input.Add(TensorInfo(Input, DataType.Uint8, 1, "height", "width", 3));

        var normalised = Preprocess(g, preprocessing);
        var backbone = ModelProto.Parser.ParseFrom(extractor.ExportGraph());
        MergeBackbone(onnx, backbone, extractor.InputName, normalised);
        string Layer(string name) => extractor.LayerOutput(name);

        var (grid, imageScore) = detector switch
        {
            PatchCoreDetector patchCore => DetectorHeads.PatchCore(g, patchCore, Layer),
            PadimDetector padim => DetectorHeads.Padim(g, padim, Layer),
            _ => throw new InvalidOperationException("unreachable: checked against SupportedModels"),
        };
        var view = Smooth(g, grid, preprocessing.OutputHeight, preprocessing.OutputWidth, DetectorHeads.MapSigma(detector));
        imageScore ??= g.Op("ReduceMax", [view], Attribute("keepdims", 0L));
        var score = g.Op("Reshape", [imageScore, g.Int64s("one", 1)]);

        // The map at the image's own size, as AnomalyMaps.ToImage resizes it (OpenCV bilinear = Resize half_pixel).
        var imageSize = g.Op("Slice", [g.Op("Shape", [Input]), g.Int64s("start", 1), g.Int64s("end", 3)]);
        var mapSize = g.Op("Concat", [g.Int64s("batch_channel", 1, 1), imageSize], Attribute("axis", 0L));
        var map = g.Op("Squeeze", [Resize(g, view, mapSize, nearest: false), g.Int64s("axis", 1)]);

        Output(g, score, ScoreOutput, DataType.Float, 1);
        Output(g, map, MapOutput, DataType.Float, 1, "height", "width");
        if (model.Calibration is { } calibration)
        {
            float range = calibration.ImageMax > calibration.ImageMin ? calibration.ImageMax - calibration.ImageMin : 1; // ScoreCalibration's rule
            var shifted = g.Op("Add", [g.Op("Div", [g.Op("Sub", [score, g.Float("threshold", calibration.ImageThreshold)]), g.Float("range", range)]), g.Float("half", 0.5f)]);
            Output(g, g.Op("Clip", [shifted, g.Float("zero", 0), g.Float("one", 1)]), NormalisedScoreOutput, DataType.Float, 1);
            Output(g, g.Op("GreaterOrEqual", [score, g.Float("threshold", calibration.ImageThreshold)]), AnomalousOutput, DataType.Bool, 1);
            Output(g, g.Op("GreaterOrEqual", [map, g.Float("pixel_threshold", calibration.PixelThreshold)]), DefectMaskOutput, DataType.Bool, 1, "height", "width");
        }
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Math.Max(Opset, backbone.OpsetImport.Where(IsDefaultDomain).Select(o => o.Version).DefaultIfEmpty(0).Max()) });
        onnx.OpsetImport.AddRange(backbone.OpsetImport.Where(o => !IsDefaultDomain(o)));
        AddMetadata(onnx, model, source);
        return onnx.ToByteArray();
    }

    private static bool IsDefaultDomain(OperatorSetIdProto opset) => opset.Domain is "" or "ai.onnx";

    /// <summary>The input contract, stored as the model's doc string.</summary>
    public static string InputContract(Preprocessing preprocessing) =>
        $"Input '{Input}': uint8 [1, height, width, 3], RGB, 0-255 (a decoded 8-bit image, any size; repeat a grey channel three times). " +
        $"The graph resizes to {preprocessing.OutputHeight}x{preprocessing.OutputWidth} (bilinear, half-pixel centres) and normalises with " +
        $"mean [{string.Join(", ", preprocessing.Mean.Select(Text))}] and std [{string.Join(", ", preprocessing.Std.Select(Text))}] on values / 255. " +
        $"Outputs: '{ScoreOutput}' float [1] (raw image score), '{MapOutput}' float [1, height, width] (raw anomaly map at the input's size); " +
        $"calibrated models add '{NormalisedScoreOutput}' float [1] (0.5 at the threshold), '{AnomalousOutput}' bool [1] (score >= threshold), " +
        $"'{DefectMaskOutput}' bool [1, height, width] (map >= pixel threshold).";

    /// <summary>uint8 NHWC RGB → float NCHW at the network size, normalised as <see cref="Preprocessing.Apply"/> does.</summary>
    private static string Preprocess(OnnxGraphBuilder g, Preprocessing preprocessing)
    {
        var pixels = g.Op("Cast", [Input], Attribute("to", (long)DataType.Float));
        var unit = g.Op("Mul", [pixels, g.Float("inverse_255", (float)(1.0 / 255))]); // OpenCV's convertTo with scale 1/255
        var planar = g.Op("Transpose", [unit], Attribute("perm", 0L, 3, 1, 2));
        var resized = Resize(g, planar, g.Int64s("network_size", 1, 3, preprocessing.OutputHeight, preprocessing.OutputWidth), nearest: false);
        var mean = preprocessing.Mean.ToArray();
        var inverseStd = preprocessing.Std.Select(s => 1f / s).ToArray();
        return g.Op("Mul", [g.Op("Sub", [resized, g.Floats("mean", mean, 1, 3, 1, 1)]), g.Floats("inverse_std", inverseStd, 1, 3, 1, 1)]);
    }

    /// <summary>
    /// Bilinear resizing with half-pixel centres and clamped borders (torch's interpolate with align_corners=False,
    /// OpenCV's INTER_LINEAR), or torch's legacy nearest (source index ⌊x · in / out⌋).
    /// </summary>
    internal static string Resize(OnnxGraphBuilder g, string input, string sizes, bool nearest) => nearest
        ? g.Op("Resize", [input, "", "", sizes], Attribute("mode", "nearest"), Attribute("coordinate_transformation_mode", "asymmetric"), Attribute("nearest_mode", "floor"))
        : g.Op("Resize", [input, "", "", sizes], Attribute("mode", "linear"), Attribute("coordinate_transformation_mode", "half_pixel"));

    /// <summary>
    /// Grid scores [1, 1, h, w] → the smoothed map at network size: bilinear upsampling, then <see cref="GaussianBlur"/>
    /// as two matrix products (rows, then columns) with the kernel folded into a band matrix whose borders mirror as
    /// scipy's 'reflect' (edge pixel repeated). ONNX's Pad mode=reflect does not repeat the edge pixel, so a padded
    /// convolution would differ at the border.
    /// </summary>
    private static string Smooth(OnnxGraphBuilder g, string grid, int height, int width, double sigma)
    {
        var upsampled = Resize(g, grid, g.Int64s("network_map_size", 1, 1, height, width), nearest: false);
        if (sigma <= 0) return upsampled;
        var vertical = g.Op("MatMul", [g.Floats("blur_rows", BlurMatrix(height, sigma), height, height), upsampled]);
        return g.Op("MatMul", [vertical, g.Floats("blur_columns", Transpose(BlurMatrix(width, sigma), width), width, width)]);
    }

    /// <summary>[n, n] matrix B with (B·x)[i] = Σ_t kernel[t] · x[mirror(i + t − radius)].</summary>
    internal static float[] BlurMatrix(int n, double sigma)
    {
        var kernel = GaussianBlur.Kernel(sigma);
        int radius = kernel.Length / 2;
        var matrix = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < kernel.Length; t++)
            {
                int p = ((i + t - radius) % (2 * n) + 2 * n) % (2 * n);
                matrix[i * n + (p < n ? p : 2 * n - 1 - p)] += kernel[t];
            }
        return Array.ConvertAll(matrix, v => (float)v);
    }

    private static float[] Transpose(float[] square, int n)
    {
        var result = new float[square.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) result[j * n + i] = square[i * n + j];
        return result;
    }

    /// <summary>
    /// Copies the backbone's nodes and initializers, its image input replaced by <paramref name="normalised"/>. Nodes
    /// of the older operator sets that changed by <see cref="Opset"/> are brought up to date: BatchNormalization lost
    /// its 'spatial' attribute (opset 9), whose only value Vigil's backbones use, 1, is the later behaviour.
    /// </summary>
    private static void MergeBackbone(ModelProto onnx, ModelProto backbone, string backboneInput, string normalised)
    {
        foreach (var source in backbone.Graph.Node)
        {
            var node = source.Clone();
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == backboneInput) node.Input[i] = normalised;
            if (node.OpType == "BatchNormalization" && node.Attribute.FirstOrDefault(a => a.Name == "spatial") is { } spatial)
            {
                if (spatial.I != 1) throw new VigilInputException($"Backbone node '{node.Name}' is a BatchNormalization with spatial={spatial.I}; ONNX export supports spatial=1 only.");
                node.Attribute.Remove(spatial);
            }
            onnx.Graph.Node.Add(node);
        }
        onnx.Graph.Initializer.AddRange(backbone.Graph.Initializer);
    }

    private static void Output(OnnxGraphBuilder g, string tensor, string name, DataType type, params object[] dims)
    {
        g.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = $"vigil/output_{name}", Input = { tensor }, Output = { name } });
        g.Graph.Output.Add(TensorInfo(name, type, dims));
    }

    private static void AddMetadata(ModelProto onnx, DeployedModel model, string source)
    {
        var detector = model.Detector;
        var metadata = new Dictionary<string, string>
        {
            ["vigil.model"] = detector.Model,
            ["vigil.options"] = Registry.DetectorRegistry.Get(detector.Model).Schema.ToJson(detector.Options).ToJsonString(),
            ["vigil.backbone"] = detector.Backbone?.ToJson().ToJsonString() ?? "",
            ["vigil.source"] = Path.GetFileName(source),
            ["vigil.input"] = onnx.DocString,
        };
        if (model.Calibration is { } c)
        {
            metadata["vigil.calibration"] = JsonSerializer.Serialize(c);
            metadata["vigil.image_threshold"] = Text(c.ImageThreshold);
            metadata["vigil.pixel_threshold"] = Text(c.PixelThreshold);
        }
        onnx.MetadataProps.AddRange(metadata.Select(p => new StringStringEntryProto { Key = p.Key, Value = p.Value }));
    }

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
