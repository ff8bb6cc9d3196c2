using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Detectors.CutPaste;

/// <summary>
/// CutPaste's network: the fine-tuned ResNet, its globally pooled features (the "pools" the density is fitted on), the
/// projection head of the official framework (model/resnet_util.py get_head: hidden linear layers without bias, each
/// followed by batch norm and ReLU, then a linear embedding with bias) and the linear classifier over the
/// self-supervised classes; plus the Gaussian density of the training images' L2-normalised pooled features (mean and
/// Ledoit–Wolf precision), buffers so they are saved with the weights (NaN until fitted).
/// </summary>
internal sealed class CutPasteNetwork : nn.Module
{
    private readonly ResNet backbone;
    private readonly Sequential head;
    private readonly Linear classifier;
    private readonly Tensor density_mean, density_precision;

    /// <param name="backbone">The ResNet to fine-tune; owned by the network from here on.</param>
    public CutPasteNetwork(ResNet backbone, int hiddenLayers, int hiddenWidth, int embeddingWidth, int classes, long seed) : base("cutpaste")
    {
        this.backbone = backbone;
        int features = backbone.Architecture.StageChannels(4);
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int width = features;
        for (int l = 0; l < hiddenLayers; l++)
        {
            layers.AddRange([nn.Linear(width, hiddenWidth, hasBias: false), KeptScalarBatchNorm.BatchNorm1d(hiddenWidth), nn.ReLU()]);
            width = hiddenWidth;
        }
        layers.Add(nn.Linear(width, embeddingWidth));
        head = nn.Sequential(layers);
        classifier = nn.Linear(embeddingWidth, classes);
        density_mean = full(features, double.NaN, ScalarType.Float32);
        density_precision = full(features, features, double.NaN, ScalarType.Float32);
        // PyTorch's default Linear initialisation (uniform ±1/√fan_in for weight and bias), drawn from the seed alone.
        using var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var linear in head.modules().OfType<Linear>().Append(classifier))
            {
                double bound = 1 / Math.Sqrt(linear.weight!.shape[1]);
                linear.weight.uniform_(-bound, bound, generator);
                linear.bias?.uniform_(-bound, bound, generator);
            }
        RegisterComponents();
    }

    /// <summary>The classifier's logits [N, classes] of preprocessed images [N, 3, H, W].</summary>
    public Tensor Logits(Tensor images) => classifier.call(head.call(backbone.call(images)));

    /// <summary>The L2-normalised pooled features [N, D] the density reads.</summary>
    public Tensor Embeddings(Tensor images) => nn.functional.normalize(backbone.call(images), p: 2, dim: 1);

    public bool HasDensity => !density_precision.isnan().any().item<bool>();

    /// <summary>Fits the density on embeddings [N, D] (N ≥ 2) of the training images.</summary>
    public void FitDensity(Tensor embeddings)
    {
        using var scope = NewDisposeScope();
        var (mean, _, precision) = LedoitWolf.Fit(embeddings);
        using var noGrad = no_grad();
        density_mean.copy_(mean);
        density_precision.copy_(precision);
    }

    /// <summary>Mahalanobis distances [N] of the images' embeddings to the density.</summary>
    public Tensor Scores(Tensor images)
    {
        if (!HasDensity) throw new InvalidOperationException("CutPaste's density is fitted when training finishes; this network was not trained.");
        return Mahalanobis.Distances(Embeddings(images).unsqueeze(1), density_mean.unsqueeze(0), density_precision.unsqueeze(0))[.., 0];
    }
}
