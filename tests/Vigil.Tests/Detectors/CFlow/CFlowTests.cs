using TorchSharp;
using Vigil.Components.Flows;
using Vigil.Detectors.CFlow;
using static TorchSharp.torch;

namespace Vigil.Tests.Detectors.CFlow;

/// <summary>CFlow's map normalisation and likelihood on hand-computed cases, and its fibre-batch training steps.</summary>
public class CFlowTests
{
    /// <summary>
    /// Two layers on one image: [a, b] on a 1 × 2 grid and the constant c on 1 × 1, to a 1 × 3 map. align_corners=True
    /// puts a and b at the ends and their mean in the middle; the map is max(sum) − sum.
    /// </summary>
    [Fact]
    public void MapNormalisationIsTrainPysOnAHandComputedCase()
    {
        double a = -1.5, b = -0.5, c = -2.0;
        using var scope = NewDisposeScope();
        var layers = new[] { tensor(new[] { a, b }, [1, 1, 2]), tensor(new[] { c }, [1, 1, 1]) };

        // Maxima over the batch, as the reference: layer 1's maximum is b, layer 2's is c.
        double[] sum = [Math.Exp(a - b) + 1, (Math.Exp(a - b) + 1) / 2 + 1, 1 + 1];
        var map = CFlowDecoder.AnomalyMaps(layers, 1, 3).data<double>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(sum.Max() - sum[i], map[i], 12);

        // Fixed constants: layer maxima 0 and 1, map maximum 5.
        double[] fixedSum = [Math.Exp(a) + Math.Exp(c - 1), (Math.Exp(a) + Math.Exp(b)) / 2 + Math.Exp(c - 1), Math.Exp(b) + Math.Exp(c - 1)];
        var fixedMap = CFlowDecoder.AnomalyMaps(layers, 1, 3, [0.0, 1.0], 5.0).data<double>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(5 - fixedSum[i], fixedMap[i], 12);
    }

    /// <summary>utils.py get_logp divided by C, and the loss −log σ(·), on one fibre computed by hand.</summary>
    [Fact]
    public void LogLikelihoodPerDimensionAndLossAreTheFormulas()
    {
        double[] z = [0.3, -1.2, 2.0];
        const double logDet = 0.7;
        double logP = (-3 * 0.5 * Math.Log(2 * Math.PI) - 0.5 * z.Sum(v => v * v) + logDet) / 3;
        using var scope = NewDisposeScope();
        var perDim = CFlowDecoder.LogLikelihoodPerDimension(tensor(z, [1, 3]), tensor(new[] { logDet }));
        Assert.Equal(logP, perDim.item<double>(), 12);
        Assert.Equal(-Math.Log(1 / (1 + Math.Exp(-logP))), CFlowDecoder.Loss(perDim).item<double>(), 12);
    }

    /// <summary>
    /// train_meta_epoch: per layer ⌊E / N⌋ steps on N fibres each; with N at least E, one step per layer on all of its
    /// fibres, whose loss is then the layer's mean loss whatever the order.
    /// </summary>
    [Theory]
    [InlineData(100, 512 / 100 + 128 / 100)]
    [InlineData(4096, 2)]
    public void TrainBatchStepsOncePerFibreBatchOfEachLayer(int fiberBatch, int expectedSteps)
    {
        var extractor = new RandomConvFeatureExtractor(seed: 3);
        var options = new CFlowOptions { Layers = ["layer2", "layer3"], CouplingBlocks = 2, ConditionChannels = 8, FiberBatch = fiberBatch };
        using var detector = new CFlowDetector(extractor, options, seed: 4);
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        // 64 × 64 input: layer2 (stride 4) has 16 × 16 = 256 positions an image, layer3 (stride 8) 64; two images.
        var frozen = extractor.LayerShapes.Select((s, i) => randn([2, s.Channels, 64 / s.Stride, 64 / s.Stride], generator: generator)).ToList();
        var losses = new List<double>();
        detector.TrainBatch(null, frozen, generator, loss => losses.Add(loss.item<float>()));
        Assert.Equal(expectedSteps, losses.Count);
        if (fiberBatch < 512) return;
        using var noGrad = no_grad();
        for (int l = 0; l < 2; l++)
        {
            var features = frozen[l + 1];
            var (z, logDet) = ((ConditionalFlows)detector.Trained[0].Module).Decoder(l).Forward(
                CFlowDecoder.Fibers(features), CFlowDecoder.Conditions(8, 2, (int)features.shape[2], (int)features.shape[3]));
            Assert.Equal(CFlowDecoder.Loss(CFlowDecoder.LogLikelihoodPerDimension(z, logDet)).mean().item<float>(), losses[l], 4);
        }
    }
}
