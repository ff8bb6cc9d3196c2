using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using Vigil.Randomness;
using Vigil.Components.Flows;
using Vigil.Detectors.Persistence;
using Vigil.Detectors.Trained;
using Vigil.Training;
using static TorchSharp.torch;

namespace Vigil.Detectors.CFlow;

/// <summary>
/// CFlow-AD (Gudovskiy et al., WACV 2022) as the official code computes it: for each frozen layer, a conditional flow
/// (<see cref="CFlowDecoder"/>) over the layer's feature vectors ("fibres"), conditioned on the 2D positional encoding
/// of their position. Training (train.py train_meta_epoch): per batch and layer, the batch's positions in a random
/// order, one optimizer step per fibre batch of N on the mean of −log σ(log p / C), the remainder left out. Test
/// (test_meta_epoch, train): each layer's log-likelihood per dimension, minus its maximum, exponentiated, upsampled
/// (bilinear, align_corners) and summed over layers; the anomaly map is the maximum minus that sum, the image score the
/// map's maximum. The official maxima are taken over the whole test set; here they are fixed after training, over
/// the training images (<see cref="FinishTraining"/>), so an image's map does not depend on the others scored with it.
/// </summary>
public sealed class CFlowDetector : TrainedDetector
{
    public const string ModelName = "cflow";
    private readonly CFlowNetwork _network;
    private readonly int[] _layerIndices;

    public CFlowDetector(IFeatureExtractor extractor, CFlowOptions options, long seed) : base(extractor, options)
    {
        _layerIndices = FeatureMaps.LayerIndices(extractor, options.Layers, ModelName);
        _network = new CFlowNetwork(_layerIndices.Select(i => extractor.LayerShapes[i].Channels).ToList(), options, seed);
    }

    public override string Model => ModelName;
    public new CFlowOptions Options => (CFlowOptions)base.Options;

    public override IReadOnlyList<(string Name, nn.Module Module)> Trained => [("cflow", _network)];

    public override bool NeedsImages => false;

    protected override double MapSigma => Options.MapSigma;

    /// <summary>train_meta_epoch: one step per fibre batch of each layer, the layers in order.</summary>
    public override void TrainBatch(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator, Action<Tensor> step)
    {
        for (int l = 0; l < _layerIndices.Length; l++)
        {
            using var scope = NewDisposeScope();
            var (fibres, conditions) = Fibres(frozen[_layerIndices[l]]);
            long count = fibres.shape[0];
            var order = randperm(count, generator: generator);
            // The official code asserts E // N > 0; a batch with fewer positions than N (a small last batch) is one fibre batch here.
            long n = Math.Min(Options.FiberBatch, count);
            for (long f = 0; f < count / n; f++)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, f * n, n);
                step(CFlowDecoder.Loss(LogLikelihood(l, fibres.index_select(0, index), conditions.index_select(0, index))).mean());
            }
        }
    }

    /// <summary>test_meta_epoch's loss: the mean of −log σ(log p / C) over every position of every layer.</summary>
    public override Tensor Loss(Tensor? images, IReadOnlyList<Tensor> frozen, Generator generator)
    {
        var losses = Enumerable.Range(0, _layerIndices.Length).Select(l =>
        {
            var (fibres, conditions) = Fibres(frozen[_layerIndices[l]]);
            return CFlowDecoder.Loss(LogLikelihood(l, fibres, conditions));
        }).ToList();
        return cat(losses, 0).mean();
    }

    /// <summary>
    /// The normalising constants from the trained network on the training images: each layer's largest log-likelihood
    /// per dimension, then the largest summed probability map (the official code's two maxima, taken over the training
    /// images instead of the test set).
    /// </summary>
    public override void FinishTraining(IEnumerable<TrainingBatch> training)
    {
        var perLayer = _layerIndices.Select(_ => new List<Tensor>()).ToList();
        foreach (var batch in training)
        {
            var likelihoods = LogLikelihoodMaps(batch.Frozen);
            for (int l = 0; l < perLayer.Count; l++) perLayer[l].Add(likelihoods[l].to_type(ScalarType.Float64).DetachFromDisposeScope());
        }
        using var scope = NewDisposeScope();
        var all = perLayer.Select(l => cat(l, 0)).ToList();
        var layerMaxima = all.Select(l => l.max().item<double>()).ToList();
        var input = Preprocessing;
        double mapMaximum = double.NegativeInfinity;
        for (long start = 0; start < all[0].shape[0]; start += Options.BatchSize)
        {
            using var chunkScope = NewDisposeScope();
            long count = Math.Min(Options.BatchSize, all[0].shape[0] - start);
            // With a map maximum of 0 the result is −(summed probabilities); its largest value is the negated minimum.
            var sum = CFlowDecoder.AnomalyMaps([.. all.Select(l => l.narrow(0, start, count))], input.OutputHeight, input.OutputWidth, layerMaxima, 0);
            mapMaximum = Math.Max(mapMaximum, -sum.min().item<double>());
        }
        _network.SetNormalisation(layerMaxima, mapMaximum);
        foreach (var list in perLayer) foreach (var t in list) t.Dispose();
    }

    protected override Tensor Maps(Tensor? images, IReadOnlyList<Tensor> frozen)
    {
        var (layerMaxima, mapMaximum) = _network.Normalisation();
        var input = Preprocessing;
        return CFlowDecoder.AnomalyMaps(LogLikelihoodMaps(frozen), input.OutputHeight, input.OutputWidth, layerMaxima, mapMaximum).to_type(ScalarType.Float32);
    }

    /// <summary>Each layer's log-likelihood per dimension [N, h, w] of every position.</summary>
    private List<Tensor> LogLikelihoodMaps(IReadOnlyList<Tensor> frozen) =>
        [.. _layerIndices.Select((index, l) =>
        {
            var features = frozen[index];
            var (fibres, conditions) = Fibres(features);
            return LogLikelihood(l, fibres, conditions).reshape(features.shape[0], features.shape[2], features.shape[3]);
        })];

    private Tensor LogLikelihood(int layer, Tensor fibres, Tensor conditions)
    {
        var (z, logDet) = _network.Decoder(layer).Forward(fibres, conditions);
        return CFlowDecoder.LogLikelihoodPerDimension(z, logDet);
    }

    /// <summary>A layer's features [B, C, h, w] as fibres [B·h·w, C] and their positional encodings [B·h·w, P], row for row.</summary>
    private (Tensor Fibres, Tensor Conditions) Fibres(Tensor features)
    {
        var (b, h, w) = (features.shape[0], (int)features.shape[2], (int)features.shape[3]);
        return (CFlowDecoder.Fibers(features), CFlowDecoder.Conditions(Options.ConditionChannels, (int)b, h, w));
    }

    /// <summary>Rebuilds a saved CFlow on <paramref name="extractor"/>.</summary>
    public static CFlowDetector Restore(ModelArchiveReader archive, CFlowOptions options, IFeatureExtractor extractor) =>
        Restored(new CFlowDetector(extractor, options, seed: 0), archive);
}

/// <summary>
/// CFlow's trained part: the decoders (<c>decoders.{l}</c>, the official list of freia_cflow_head) and the map
/// normalisation fixed after training (a buffer, so it is saved with the weights): each layer's maximum log-likelihood
/// per dimension, then the maximum of the summed map.
/// </summary>
internal sealed class CFlowNetwork : nn.Module
{
    private readonly ModuleList<SequenceInn> decoders;
    private readonly Tensor normalisation;

    public CFlowNetwork(IReadOnlyList<int> channels, CFlowOptions options, long seed) : base(nameof(CFlowNetwork))
    {
        decoders = nn.ModuleList(channels.Select((c, l) =>
            CFlowDecoder.Create(c, (long)SeededRandom.Derive(SeededRandom.Derive((ulong)seed, "decoder"), l), options.CouplingBlocks, options.ClampAlpha, options.ConditionChannels)).ToArray());
        normalisation = full(channels.Count + 1, double.NaN, ScalarType.Float64);
        RegisterComponents();
    }

    public SequenceInn Decoder(int layer) => decoders[layer];

    public void SetNormalisation(IReadOnlyList<double> layerMaxima, double mapMaximum)
    {
        using var noGrad = no_grad();
        normalisation.copy_(tensor([.. layerMaxima, mapMaximum], ScalarType.Float64));
    }

    public (IReadOnlyList<double> LayerMaxima, double MapMaximum) Normalisation()
    {
        var values = normalisation.data<double>().ToArray();
        if (values.Any(double.IsNaN)) throw new InvalidOperationException("CFlow's map normalisation is set when training finishes; this network was not trained.");
        return (values[..^1], values[^1]);
    }
}
