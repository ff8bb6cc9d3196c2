using Vigil.Backbones.Onnx;
using static TorchSharp.torch;

namespace Vigil.Backbones;

/// <summary>The run's backbone as a TorchSharp ResNet of its own, for the detectors that fine-tune it (DevNet, CutPaste).</summary>
public static class TrainableResNet
{
    /// <summary>
    /// A ResNet without classifier with the weights of the run's backbone: a copy of a torchvision ResNet extractor's
    /// network (for the ONNX Runtime form, of the network its graph was written from), or the ImageNet ResNet18 read from its file when the run uses its ONNX form (the same weights and numbers,
    /// <see cref="ResNet18ImageNet"/>; its shuffled random form has no TorchSharp twin and is refused). The caller owns it.
    /// </summary>
    /// <param name="model">The detector asking, and <paramref name="why"/> it needs a TorchSharp ResNet, for the error message.</param>
    public static ResNet CopyOf(IFeatureExtractor extractor, string model, string why)
    {
        if (extractor is OnnxFeatureExtractor { Name: ResNet18ImageNet.Name, IsRandomlyInitialised: false })
            return ResNet18ImageNet.LoadNetwork(ResNet18ImageNet.DefaultPath());
        if (extractor is OnnxFeatureExtractor { TorchTwin: { } twin })
        {
            using var network = twin();
            return Copy(network);
        }
        if (extractor is not ResNetFeatureExtractor torchResNet)
            throw new VigilInputException($"{model} runs its backbone as a TorchSharp ResNet ({why}); backbone '{extractor.Name}' is not one: " +
                "use resnet18_imagenet (the default, with its pretrained weights) or a torchvision ResNet.");
        return Copy(torchResNet.Network);
    }

    private static ResNet Copy(ResNet network)
    {
        var copy = new ResNet(network.Architecture, classes: 0);
        var source = network.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, tensor) in copy.state_dict()) tensor.copy_(source[key]);
        return copy;
    }

    /// <summary>Freezes <paramref name="network"/>: eval mode (BatchNorm on its running statistics), no gradients.</summary>
    public static void Freeze(ResNet network)
    {
        network.eval();
        foreach (var p in network.parameters()) p.requires_grad = false;
    }

    /// <summary>
    /// The feature map of <paramref name="stage"/> at each scale s = 0 … <paramref name="scales"/> − 1 of preprocessed
    /// images [N, 3, H, W]: scale s reads the images resized to (H / 2^s, W / 2^s) by F.interpolate's default nearest
    /// neighbour, as DevNet's and DRA's net.py do.
    /// </summary>
    public static Tensor[] ScaledFeatures(ResNet network, Tensor images, int stage, int scales)
    {
        long h = images.shape[2], w = images.shape[3];
        return Enumerable.Range(0, scales).Select(s =>
        {
            var scaled = s == 0 ? images : nn.functional.interpolate(images, [h >> s, w >> s], mode: InterpolationMode.Nearest);
            return network.ForwardStages(scaled, stage)[stage - 1];
        }).ToArray();
    }
}
