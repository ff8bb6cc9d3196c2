using Vigil.Detectors.Options;

namespace Vigil.Detectors.DevNet;

/// <summary>DevNet settings; defaults follow the official code (Choubo/deviation-network-image, train.py and its modules).</summary>
public sealed record DevNetOptions : DeviationNetworkOptions
{
    // train.py: 50 epochs; the rest is shared with DRA (DeviationNetworkOptions).
    public DevNetOptions() => Epochs = 50;

    protected override string Method => "DevNet";

    [Option("layer", "Backbone layer the 1×1 convolution scores (layer4: the ResNet18's last feature map).")]
    public string Layer { get; init; } = "layer4";

    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(Layer)) throw new VigilInputException("DevNet needs a backbone layer (layer4 in the paper).");
    }
}
