using TorchSharp;
using Vigil.Components;
using Vigil.Detectors;
using Vigil.Detectors.Padim;
using Vigil.Detectors.PatchCore;
using static Vigil.Export.OnnxGraphBuilder;

namespace Vigil.Export;

/// <summary>
/// Each exportable detector's scoring as ONNX nodes: from its backbone layers (float [1, C, h, w] tensors, found by
/// layer name) to grid scores [1, 1, h, w] and, where the method defines one apart from the map, the image score.
/// The fitted state becomes constant initializers.
/// </summary>
internal static class DetectorHeads
{
    public static double MapSigma(IDetector detector) => detector switch
    {
        PatchCoreDetector p => p.Options.MapSigma,
        PadimDetector p => p.Options.MapSigma,
        _ => throw new ArgumentException($"No export head for {detector.Model}.", nameof(detector)),
    };

    /// <summary>
    /// PatchCore's embedding and nearest-neighbour search. The embedding (unfold p×p, resize to the first layer's grid,
    /// adaptive average pooling to pretrain_dim per layer, concatenation, pooling to target_dim) is linear in each layer,
    /// and channel pooling commutes with the spatial resize, so it is one convolution per layer whose [target, C, p, p]
    /// kernel is the product of the two pooling matrices, resized and summed. Squared distances to the bank are
    /// ‖b‖² − 2 q·b (one matrix product), minimised, plus ‖q‖², clamped at 0, as <see cref="NearestNeighbours.Search"/>.
    /// </summary>
    public static (string Grid, string? ImageScore) PatchCore(OnnxGraphBuilder g, PatchCoreDetector detector, Func<string, string> layer)
    {
        var options = detector.Options;
        if (options.ReweightingNeighbours is not null)
            throw new VigilInputException("ONNX export does not include PatchCore's image-score re-weighting (reweighting=…); export a model trained without it.");
        var bank = detector.MemoryBank ?? throw new InvalidOperationException("PatchCore is not fitted.");
        int p = options.PatchSize, pre = options.PretrainEmbedDimension, target = options.TargetEmbedDimension, layers = options.Layers.Count;
        var extractor = detector.Extractor;

        var grid = GridSize(g, layer(options.Layers[0]));
        var final = PoolingMatrix(pre * layers, target);
        string? features = null;
        for (int i = 0; i < layers; i++)
        {
            int channels = extractor.LayerShapes[extractor.Layers.ToList().IndexOf(options.Layers[i])].Channels;
            var kernel = PatchKernel(final, i * pre, pre, PoolingMatrix(channels * p * p, pre), target, channels * p * p);
            var conv = g.Op("Conv", [layer(options.Layers[i]), g.Floats($"patch_kernel_{options.Layers[i]}", kernel, target, channels, p, p)],
                Attribute("kernel_shape", (long)p, p), Attribute("pads", (long)(p - 1) / 2, (p - 1) / 2, (p - 1) / 2, (p - 1) / 2));
            if (i > 0)
            {
                var size = g.Op("Concat", [g.Int64s("batch_target", 1, target), grid], Attribute("axis", 0L));
                conv = OnnxExport.Resize(g, conv, size, nearest: false);
            }
            features = features is null ? conv : g.Op("Add", [features, conv]);
        }
        var queries = PositionRows(g, features!, target); // [hw, target]

        var bankRows = bank.to_type(torch.ScalarType.Float32).contiguous();
        long m = bankRows.shape[0];
        var bankValues = bankRows.data<float>().ToArray();
        var bankNorms = new float[m];
        var transposed = new float[bankValues.Length];
        for (long r = 0; r < m; r++)
        {
            double norm = 0;
            for (int d = 0; d < target; d++)
            {
                float v = bankValues[r * target + d];
                norm += (double)v * v;
                transposed[d * m + r] = v;
            }
            bankNorms[r] = (float)norm;
        }
        var products = g.Op("MatMul", [queries, g.Floats("memory_bank_transposed", transposed, target, m)]);
        var partial = g.Op("Add", [g.Floats("memory_bank_norms", bankNorms, 1, m), g.Op("Mul", [products, g.Float("minus_two", -2)])]);
        var nearest = g.Op("ReduceMin", [partial], Attribute("axes", new long[] { 1 }), Attribute("keepdims", 0L));
        var queryNorms = g.Op("ReduceSum", [g.Op("Mul", [queries, queries]), g.Int64s("axis", 1)], Attribute("keepdims", 0L));
        var scores = g.Op("Relu", [g.Op("Add", [nearest, queryNorms])]);
        if (detector.BankWeights is { } weights) // SoftPatch's soft weighting: the matched bank row's outlier score
        {
            var index = g.Op("ArgMin", [partial], Attribute("axis", 1L), Attribute("keepdims", 0L));
            var bankWeights = weights.to_type(torch.ScalarType.Float32).contiguous().data<float>().ToArray();
            scores = g.Op("Mul", [scores, g.Op("Gather", [g.Floats("bank_weights", bankWeights, m), index])]);
        }
        var imageScore = g.Op("ReduceMax", [scores], Attribute("keepdims", 0L));
        return (ToGrid(g, scores, grid), imageScore);
    }

    /// <summary>
    /// PaDiM: the layers brought to the first one's grid (torch's nearest), concatenated, the fitted channel subset
    /// gathered, and the Mahalanobis distance per position sqrt(max(0, (x − μ)ᵀ Σ⁻¹ (x − μ))) as a batched matrix
    /// product with the stored inverse covariances (<see cref="Mahalanobis.Distances"/>).
    /// </summary>
    public static (string Grid, string? ImageScore) Padim(OnnxGraphBuilder g, PadimDetector detector, Func<string, string> layer)
    {
        var options = detector.Options;
        var (channels, mean, inverse) = detector.Gaussians;
        long positions = mean.shape[0], d = mean.shape[1];
        var grid = GridSize(g, layer(options.Layers[0]));
        var maps = options.Layers.Select((name, i) =>
        {
            if (i == 0) return layer(name);
            var size = g.Op("Concat", [g.Op("Slice", [g.Op("Shape", [layer(name)]), g.Int64s("start", 0), g.Int64s("end", 2)]), grid], Attribute("axis", 0L));
            return OnnxExport.Resize(g, layer(name), size, nearest: true);
        }).ToList();
        var joined = maps.Count == 1 ? maps[0] : g.Op("Concat", maps, Attribute("axis", 1L));
        var chosen = g.Op("Gather", [joined, g.Int64s("padim_channels", channels.to_type(torch.ScalarType.Int64).data<long>().ToArray())], Attribute("axis", 1L));
        var rows = PositionRows(g, chosen, d);
        var diff = g.Op("Sub", [rows, g.Floats("padim_mean", Values(mean), positions, d)]);
        var column = g.Op("Unsqueeze", [diff, g.Int64s("axis", 1)]); // [P, 1, D]
        var product = g.Op("MatMul", [column, g.Floats("padim_inverse_covariance", Values(inverse), positions, d, d)]);
        var squared = g.Op("ReduceSum", [g.Op("Mul", [product, column]), g.Int64s("axis", -1)], Attribute("keepdims", 0L));
        var distances = g.Op("Sqrt", [g.Op("Relu", [squared])]);
        return (ToGrid(g, distances, grid), null);
    }

    private static float[] Values(torch.Tensor tensor) => tensor.to_type(torch.ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>The [h, w] of a [1, C, h, w] tensor, as an int64 [2] tensor.</summary>
    private static string GridSize(OnnxGraphBuilder g, string map) =>
        g.Op("Slice", [g.Op("Shape", [map]), g.Int64s("start", 2), g.Int64s("end", 4)]);

    /// <summary>[1, C, h, w] → [h·w, C], row-major positions (<see cref="FeatureMaps.ToPositionRows"/>).</summary>
    private static string PositionRows(OnnxGraphBuilder g, string maps, long channels) =>
        g.Op("Transpose", [g.Op("Reshape", [maps, g.Int64s("channels_by_positions", channels, -1)])], Attribute("perm", 1L, 0));

    private static string ToGrid(OnnxGraphBuilder g, string scores, string grid) =>
        g.Op("Reshape", [scores, g.Op("Concat", [g.Int64s("batch_channel", 1, 1), grid], Attribute("axis", 0L))]);

    /// <summary>
    /// <see cref="FeatureMaps.AdaptiveAveragePool"/> from <paramref name="input"/> to <paramref name="output"/> values as
    /// an [output, input] matrix: row i averages inputs ⌊i·L/T⌋ … ⌈(i+1)·L/T⌉ − 1.
    /// </summary>
    internal static double[] PoolingMatrix(int input, int output)
    {
        var matrix = new double[output * input];
        for (int i = 0; i < output; i++)
        {
            long start = (long)i * input / output, end = ((long)(i + 1) * input + output - 1) / output;
            for (long j = start; j < end; j++) matrix[i * input + j] = 1.0 / (end - start);
        }
        return matrix;
    }

    /// <summary>
    /// Columns [offset, offset + width) of the final pooling [target, ·] times the layer's pooling [width, patchLength]:
    /// the [target, C, p, p] convolution kernel, since unfold's vector index c·p² + ky·p + kx is the kernel's layout.
    /// </summary>
    private static float[] PatchKernel(double[] final, int offset, int width, double[] layerPooling, int target, int patchLength)
    {
        int finalColumns = final.Length / target;
        var kernel = new float[target * patchLength];
        var row = new double[patchLength];
        for (int o = 0; o < target; o++)
        {
            Array.Clear(row);
            for (int k = 0; k < width; k++)
            {
                double f = final[o * finalColumns + offset + k];
                if (f == 0) continue;
                for (int j = 0; j < patchLength; j++) row[j] += f * layerPooling[k * patchLength + j];
            }
            for (int j = 0; j < patchLength; j++) kernel[o * patchLength + j] = (float)row[j];
        }
        return kernel;
    }
}
