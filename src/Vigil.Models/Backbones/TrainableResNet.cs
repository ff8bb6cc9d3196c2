using Vigil.Backbones.Onnx;
using static TorchSharp.torch;

namespace Vigil.Backbones;

/// <summary>The run's backbone as a TorchSharp ResNet of its own, for the detectors that fine-tune it (DevNet, CutPaste).</summary>
public static class TrainableResNet
{
    /// <summary>
    /// A ResNet without classifier with the weights of the run's backbone: a copy of a torchvision ResNet extractor's
    /// network, or the ImageNet ResNet18 read from its file when the run uses its ONNX form (the same weights and numbers,
    /// <see cref="ResNet18ImageNet"/>; its shuffled random form has no TorchSharp twin and is refused). The caller owns it.
    /// </summary>
    /// <param name="model">The detector asking, and <paramref name="why"/> it needs a TorchSharp ResNet, for the error message.</param>
    public static ResNet CopyOf(IFeatureExtractor extractor, string model, string why)
    {
        if (extractor is OnnxFeatureExtractor { Name: ResNet18ImageNet.Name, IsRandomlyInitialised: false })
            return ResNet18ImageNet.LoadNetwork(ResNet18ImageNet.DefaultPath());
        if (extractor is not ResNetFeatureExtractor torchResNet)
            throw new VigilInputException($"{model} runs its backbone as a TorchSharp ResNet ({why}); backbone '{extractor.Name}' is not one: " +
                "use resnet18_imagenet (the default, with its pretrained weights) or a torchvision ResNet.");
        var copy = new ResNet(torchResNet.Network.Architecture, classes: 0);
        var source = torchResNet.Network.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, tensor) in copy.state_dict()) tensor.copy_(source[key]);
        return copy;
    }
}
