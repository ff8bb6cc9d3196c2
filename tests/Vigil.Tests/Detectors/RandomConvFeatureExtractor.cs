using TorchSharp;
using Vigil.Backbones;
using Vigil.Imaging;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Vigil.Tests.Detectors;

/// <summary>
/// A small RANDOMLY initialised conv net (seeded He-normal weights, no training) standing in for a pretrained
/// backbone in tests: four 3×3 stride-2 conv + ReLU stages named layer1…layer4 (strides 2, 4, 8, 16).
/// Random conv features still separate a bright blob from a noise texture, which is all the tests need.
/// </summary>
public sealed class RandomConvFeatureExtractor : IFeatureExtractor
{
    private readonly List<Tensor> _weights = [];
    private readonly int[] _stageChannels;

    public RandomConvFeatureExtractor(long seed = 1, Preprocessing? preprocessing = null, int[]? stageChannels = null)
    {
        _stageChannels = stageChannels ?? [8, 16, 32, 32];
        LayerShapes = _stageChannels.Select((c, i) => (c, 2 << i)).ToArray();
        Preprocessing = preprocessing ?? new Preprocessing(72, 72, 64, 64);
        var generator = new Generator((ulong)seed);
        int inChannels = 3;
        foreach (var outChannels in _stageChannels)
        {
            var weight = randn(new long[] { outChannels, inChannels, 3, 3 }, generator: generator) * Math.Sqrt(2.0 / (inChannels * 9));
            _weights.Add(weight.DetachFromDisposeScope());
            inChannels = outChannels;
        }
    }

    public string Name => "random-tiny-convnet";
    public Preprocessing Preprocessing { get; }
    public IReadOnlyList<string> Layers { get; } = ["layer1", "layer2", "layer3", "layer4"];
    public IReadOnlyList<(int Channels, int Stride)> LayerShapes { get; }
    public bool IsRandomlyInitialised => true;

    public IReadOnlyList<Tensor> Extract(IReadOnlyList<ImageTensor> images)
    {
        using var noGrad = no_grad();
        var input = stack(images.Select(i =>
        {
            var p = Preprocessing.Apply(i);
            return tensor(p.Data, 3, p.Height, p.Width);
        }).ToList());
        var outputs = new List<Tensor>();
        var x = input;
        foreach (var w in _weights)
        {
            x = F.relu(F.conv2d(x, w, strides: [2, 2], padding: [1, 1]));
            outputs.Add(x);
        }
        return outputs;
    }

    public void Dispose()
    {
        foreach (var w in _weights) w.Dispose();
    }
}
