using TorchSharp;
using TorchSharp.Modules;
using Vigil.Randomness;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// The trained part of the detectors built on CFlow-AD's decoders (CFlow, BGAD): one conditional flow per feature layer
/// (<c>decoders.{l}</c>, the official list of freia_cflow_head) over the layer's fibres conditioned on their positional
/// encoding, and the map normalisation fixed after training (a buffer, so it is saved with the weights): each layer's
/// largest log-likelihood per dimension, then the largest summed probability map, both over the training images.
/// </summary>
public sealed class ConditionalFlows : nn.Module
{
    private readonly ModuleList<SequenceInn> decoders;
    private readonly Tensor normalisation;
    private readonly int _conditionChannels;

    /// <param name="channels">Each layer's feature channels, one decoder each.</param>
    /// <param name="seed">Draws each decoder's rotations and initial weights (decoder l from (seed, "decoder", l)).</param>
    public ConditionalFlows(IReadOnlyList<int> channels, long seed, int couplingBlocks, double clampAlpha, int conditionChannels) : base(nameof(ConditionalFlows))
    {
        _conditionChannels = conditionChannels;
        decoders = nn.ModuleList(channels.Select((c, l) =>
            CFlowDecoder.Create(c, (long)SeededRandom.Derive(SeededRandom.Derive((ulong)seed, "decoder"), l), couplingBlocks, clampAlpha, conditionChannels)).ToArray());
        normalisation = full(channels.Count + 1, double.NaN, ScalarType.Float64);
        RegisterComponents();
    }

    public int Layers => decoders.Count;

    public SequenceInn Decoder(int layer) => decoders[layer];

    /// <summary>A layer's features [B, C, h, w] as fibres [B·h·w, C] and their positional encodings [B·h·w, P], row for row.</summary>
    public (Tensor Fibres, Tensor Conditions) Fibres(Tensor features)
    {
        var (b, h, w) = (features.shape[0], (int)features.shape[2], (int)features.shape[3]);
        return (CFlowDecoder.Fibers(features), CFlowDecoder.Conditions(_conditionChannels, (int)b, h, w));
    }

    /// <summary>The log-likelihood per dimension [E] of fibres [E, C] of <paramref name="layer"/> under their conditions.</summary>
    public Tensor LogLikelihood(int layer, Tensor fibres, Tensor conditions)
    {
        var (z, logDet) = decoders[layer].Forward(fibres, conditions);
        return CFlowDecoder.LogLikelihoodPerDimension(z, logDet);
    }

    /// <summary>
    /// A training batch as the official loops cut it (CFlow's and BGAD's train_meta_epoch): per layer in order, the
    /// batch's positions in a random order from <paramref name="generator"/>, cut into fibre batches of
    /// <paramref name="fiberBatch"/> (the remainder left out; fewer positions than that make one batch). Each fibre
    /// batch's log-likelihoods per dimension [n] go to <paramref name="train"/>, with which of its positions are
    /// defective when <paramref name="masks"/> [N, 1, H, W] are given (downsampled to the layer's map by nearest neighbour).
    /// </summary>
    public void FibreBatches(IReadOnlyList<Tensor> layerFeatures, Tensor? masks, long fiberBatch, Generator generator, Action<Tensor, Tensor?> train)
    {
        for (int l = 0; l < layerFeatures.Count; l++)
        {
            using var scope = NewDisposeScope();
            var features = layerFeatures[l];
            var (fibres, conditions) = Fibres(features);
            var defective = masks is null ? null
                : nn.functional.interpolate(masks, size: [features.shape[2], features.shape[3]], mode: InterpolationMode.Nearest).reshape(-1) == 1;
            long count = fibres.shape[0];
            var order = randperm(count, generator: generator);
            // The official CFlow asserts E // N > 0; a batch with fewer positions than N (a small last batch) is one fibre batch here.
            long n = Math.Min(fiberBatch, count);
            for (long f = 0; f < count / n; f++)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, f * n, n);
                train(LogLikelihood(l, fibres.index_select(0, index), conditions.index_select(0, index)), defective?.index_select(0, index));
            }
        }
    }

    /// <summary>Each layer's log-likelihood per dimension [N, h, w] of every position of its features [N, C, h, w].</summary>
    public List<Tensor> LogLikelihoodMaps(IReadOnlyList<Tensor> layerFeatures) =>
        [.. layerFeatures.Select((features, l) =>
        {
            var (fibres, conditions) = Fibres(features);
            return LogLikelihood(l, fibres, conditions).reshape(features.shape[0], features.shape[2], features.shape[3]);
        })];

    /// <summary>The mean of −log σ(log p / C) over every position of every layer (the official test loss).</summary>
    public Tensor MeanLoss(IReadOnlyList<Tensor> layerFeatures) =>
        cat(LogLikelihoodMaps(layerFeatures).Select(l => CFlowDecoder.Loss(l.flatten())).ToList(), 0).mean();

    /// <summary>
    /// Fixes the normalisation from the trained network on the training images (each batch: its layers' features):
    /// each layer's largest log-likelihood per dimension, then the largest summed probability map at
    /// <paramref name="height"/> × <paramref name="width"/> — the official code's two maxima, taken over the training
    /// images instead of the test set, so an image's map does not depend on the others scored with it.
    /// </summary>
    public void Normalise(IEnumerable<IReadOnlyList<Tensor>> training, int height, int width, int chunk)
    {
        var perLayer = Enumerable.Range(0, Layers).Select(_ => new List<Tensor>()).ToList();
        try
        {
            foreach (var batch in training)
            {
                var likelihoods = LogLikelihoodMaps(batch);
                for (int l = 0; l < perLayer.Count; l++) perLayer[l].Add(likelihoods[l].to_type(ScalarType.Float64).DetachFromDisposeScope());
            }
            using var scope = NewDisposeScope();
            var all = perLayer.Select(l => cat(l, 0)).ToList();
            var layerMaxima = all.Select(l => l.max().item<double>()).ToList();
            double mapMaximum = double.NegativeInfinity;
            for (long start = 0; start < all[0].shape[0]; start += chunk)
            {
                using var chunkScope = NewDisposeScope();
                long count = Math.Min(chunk, all[0].shape[0] - start);
                // With a map maximum of 0 the result is −(summed probabilities); its largest value is the negated minimum.
                var sum = CFlowDecoder.AnomalyMaps([.. all.Select(l => l.narrow(0, start, count))], height, width, layerMaxima, 0);
                mapMaximum = Math.Max(mapMaximum, -sum.min().item<double>());
            }
            using var noGrad = no_grad();
            normalisation.copy_(tensor([.. layerMaxima, mapMaximum], ScalarType.Float64));
        }
        finally
        {
            foreach (var list in perLayer) foreach (var t in list) t.Dispose();
        }
    }

    /// <summary>The anomaly maps [N, height, width] (float32) of the layers' features, with the fixed normalisation.</summary>
    public Tensor AnomalyMaps(IReadOnlyList<Tensor> layerFeatures, int height, int width)
    {
        var values = normalisation.data<double>().ToArray();
        if (values.Any(double.IsNaN)) throw new InvalidOperationException("The flows' map normalisation is set when training finishes; this network was not trained.");
        return CFlowDecoder.AnomalyMaps(LogLikelihoodMaps(layerFeatures), height, width, values[..^1], values[^1]).to_type(ScalarType.Float32);
    }
}
