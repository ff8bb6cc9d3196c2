using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// PatchCore's locally aware patch features (patchcore-inspection's PatchMaker, Preprocessing and Aggregator, which
/// SimpleNet reuses): each layer's p×p neighbourhoods unfolded (zero padding, stride 1) into C·p² vectors, coarser layers
/// bilinearly resized to the first layer's grid, each layer's vector adaptively average-pooled to the pre-projection
/// length, the layers' results concatenated and pooled to the target length.
/// </summary>
/// <remarks>
/// Every step is linear, so the pooling windows are summed straight from the feature maps (channels-last, one pass
/// per position, never materialising the C·p² unfolded vectors), and a coarser layer is pooled on its own grid before
/// it is resized (the resize mixes positions, the pooling channels: they commute). A layer on the first layer's grid
/// gives the bits of the unfold-then-pool formulation; a resized layer differs only by float rounding (about 1e-7
/// relative), as its sums are taken in another order.
/// </remarks>
public static class PatchEmbedding
{
    /// <summary>
    /// The embedding's temporaries, at most four arrays of a size kept. The shared pool also caches arrays per thread, and
    /// a server answers from many thread-pool threads: with it, the server's load test once saw its working set grow 348
    /// MiB (the test allows 300; not shown to be the pool's doing, but its retention had no bound).
    /// </summary>
    private static readonly ArrayPool<float> Temporaries = ArrayPool<float>.Create(1 << 28, maxArraysPerBucket: 4);

    /// <summary>The embedding of <paramref name="layers"/> (the first sets the grid): [B, h·w, target], and the grid size.</summary>
    public static (Tensor Features, long Height, long Width) Embed(IReadOnlyList<Tensor> layers, int patchSize, int pretrainDimension, int targetDimension)
    {
        var first = layers[0];
        int batch = (int)first.shape[0], h = (int)first.shape[2], w = (int)first.shape[3];
        var pooled = layers.Select(map => PoolOnGrid(map, h, w, patchSize, pretrainDimension)).ToList(); // each [B·h·w, pre], rented
        int concatenated = layers.Count * pretrainDimension, positions = batch * h * w;
        var (starts, counts) = FeatureMaps.AdaptivePoolWindows(concatenated, targetDimension);
        var features = empty([batch, (long)h * w, targetDimension], ScalarType.Float32);
        // Optimised at once: the loops run a few times per image, too few for tiered compilation to reach them early.
        Parallel.For(0, positions, Threads(), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (position) =>
        {
            // The position's layer vectors side by side, as the concatenation the official pooling reads.
            Span<float> joined = concatenated <= 4096 ? stackalloc float[concatenated] : new float[concatenated];
            for (int layer = 0; layer < pooled.Count; layer++)
                pooled[layer].AsSpan((int)((long)position * pretrainDimension), pretrainDimension).CopyTo(joined[(layer * pretrainDimension)..]);
            // Written straight into the tensor's memory: no managed result array to copy from.
            var row = MemoryMarshal.Cast<byte, float>(features.bytes).Slice(position * targetDimension, targetDimension);
            for (int t = 0; t < targetDimension; t++)
            {
                float sum = 0;
                foreach (float v in joined.Slice(starts[t], counts[t])) sum += v;
                row[t] = sum / counts[t];
            }
        });
        foreach (var layer in pooled) Temporaries.Return(layer);
        return (features, h, w);
    }

    /// <summary>
    /// One layer [B, C, h', w'] unfolded into p×p neighbourhoods, pooled to <paramref name="length"/> values per position
    /// and brought to the (<paramref name="height"/>, <paramref name="width"/>) grid: [B·height·width, length] row-major,
    /// in an array rented from <see cref="Temporaries"/> (possibly longer; return it). Renting keeps these
    /// megabyte-sized temporaries, several per image, off the large-object heap, whose garbage triggers full collections.
    /// </summary>
    private static float[] PoolOnGrid(Tensor map, int height, int width, int p, int length)
    {
        int batch = (int)map.shape[0], channels = (int)map.shape[1], mapH = (int)map.shape[2], mapW = (int)map.shape[3];
        float[] channelsLast = Temporaries.Rent(batch * channels * mapH * mapW);
        using (var scope = NewDisposeScope())
            MemoryMarshal.Cast<byte, float>(map.to_type(ScalarType.Float32).permute(0, 2, 3, 1).contiguous().bytes).CopyTo(channelsLast);
        int taps = p * p, radius = (p - 1) / 2, unfolded = channels * taps;
        var (starts, counts) = FeatureMaps.AdaptivePoolWindows(unfolded, length);
        var pooled = Temporaries.Rent(checked(batch * mapH * mapW * length));
        Parallel.For(0, batch * mapH, Threads(), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (row) =>
        {
            int b = row / mapH, y = row % mapH;
            var neighbourhood = new float[unfolded]; // one position's unfolded vector, index c·p² + dy·p + dx as F.unfold
            for (int x = 0; x < mapW; x++)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    int yy = y + tap / p - radius, xx = x + tap % p - radius;
                    bool inside = (uint)yy < (uint)mapH && (uint)xx < (uint)mapW; // zero padding outside
                    long source = (((long)b * mapH + yy) * mapW + xx) * channels;
                    for (int c = 0, k = tap; c < channels; c++, k += taps) neighbourhood[k] = inside ? channelsLast[source + c] : 0;
                }
                long rowOut = ((long)row * mapW + x) * length;
                for (int i = 0; i < length; i++)
                {
                    float sum = 0;
                    for (int k = starts[i], end = starts[i] + counts[i]; k < end; k++) sum += neighbourhood[k];
                    pooled[rowOut + i] = sum / counts[i];
                }
            }
        });
        Temporaries.Return(channelsLast);
        if (mapH == height && mapW == width) return pooled;
        var resized = ResizeChannelsLast(pooled, batch, mapH, mapW, length, height, width);
        Temporaries.Return(pooled);
        return resized;
    }

    /// <summary>
    /// Bilinear resize (align_corners=False, as <see cref="FeatureMaps.Resize"/>) of channels-last maps [B, h', w', L]
    /// to [B, height, width, L]: each output vector is a weighted sum of four input vectors. The result is rented.
    /// </summary>
    private static float[] ResizeChannelsLast(float[] maps, int batch, int mapH, int mapW, int length, int height, int width)
    {
        var (y0, y1, wy) = SourceTaps(mapH, height);
        var (x0, x1, wx) = SourceTaps(mapW, width);
        var resized = Temporaries.Rent(checked(batch * height * width * length));
        Parallel.For(0, batch * height, Threads(), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (row) =>
        {
            int b = row / height, y = row % height;
            long top = (long)b * mapH + y0[y], bottom = (long)b * mapH + y1[y];
            float lowerY = wy[y], upperY = 1 - wy[y];
            for (int x = 0; x < width; x++)
            {
                float lowerX = wx[x], upperX = 1 - wx[x];
                long a = (top * mapW + x0[x]) * length, c = (top * mapW + x1[x]) * length;
                long d = (bottom * mapW + x0[x]) * length, e = (bottom * mapW + x1[x]) * length;
                long o = ((long)row * width + x) * length;
                for (int i = 0; i < length; i++)
                    resized[o + i] = upperY * (upperX * maps[a + i] + lowerX * maps[c + i]) + lowerY * (upperX * maps[d + i] + lowerX * maps[e + i]);
            }
        });
        return resized;
    }

    /// <summary>For each output index, torch's two source indices and the weight of the second (align_corners=False).</summary>
    private static (int[] First, int[] Second, float[] SecondWeight) SourceTaps(int inputLength, int outputLength)
    {
        var (first, second, weight) = (new int[outputLength], new int[outputLength], new float[outputLength]);
        float scale = (float)inputLength / outputLength;
        for (int o = 0; o < outputLength; o++)
        {
            float source = Math.Max(scale * (o + 0.5f) - 0.5f, 0);
            first[o] = Math.Min((int)source, inputLength - 1);
            second[o] = Math.Min(first[o] + 1, inputLength - 1);
            weight[o] = source - first[o];
        }
        return (first, second, weight);
    }

    private static ParallelOptions Threads() => new() { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) };
}
