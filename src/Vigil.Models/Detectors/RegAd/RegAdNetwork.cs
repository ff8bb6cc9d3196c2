using TorchSharp;
using TorchSharp.Modules;
using Vigil.Backbones;
using Vigil.Components;
using static TorchSharp.torch;

namespace Vigil.Detectors.RegAd;

/// <summary>
/// RegAD's networks (models/stn.py, models/siamese.py): the ImageNet ResNet18's stem and stages 1–3, each stage
/// followed by a spatial transformer whose output feeds the next stage; the siamese encoder (three 1×1 convolutions
/// without bias, the first two with batch norm and ReLU) and predictor (1×1 convolution, batch norm, ReLU, 1×1
/// convolution) on the last transformer's output; and the support set's per-position Gaussians (mean, inverse
/// covariance and the channel subset they model), buffers so they are saved with the weights.
/// </summary>
internal sealed class RegAdNetwork : nn.Module
{
    private const int Stages = 3;
    private readonly ResNet resnet;
    private readonly SpatialTransformer stn1, stn2, stn3;
    private readonly Sequential encoder, predictor;
    private readonly Tensor gaussian_mean, gaussian_inverse, gaussian_channels, gaussian_fitted;

    /// <param name="backbone">The ResNet whose stem and stages 1–3 are used; owned by the network from here on.</param>
    /// <param name="height">The network input's height and <paramref name="width"/> width (224 in the paper).</param>
    /// <param name="channels">The sorted layer1–3 channels the Gaussians model.</param>
    public RegAdNetwork(ResNet backbone, int height, int width, StnMode mode, Tensor channels, long seed) : base("regad")
    {
        resnet = backbone;
        using var generator = new Generator((ulong)seed);
        // Stage grids: the stem halves twice (7×7/2 convolution, 3×3/2 max pool), stages 2 and 3 halve once each.
        var grids = new (int H, int W)[Stages];
        (int h, int w) = (SpatialTransformer.Halved(SpatialTransformer.Halved(height)), SpatialTransformer.Halved(SpatialTransformer.Halved(width)));
        for (int s = 0; s < Stages; s++)
        {
            if (s > 0) (h, w) = (SpatialTransformer.Halved(h), SpatialTransformer.Halved(w));
            grids[s] = (h, w);
        }
        stn1 = new SpatialTransformer(backbone.Architecture.StageChannels(1), grids[0].H, grids[0].W, mode, generator);
        stn2 = new SpatialTransformer(backbone.Architecture.StageChannels(2), grids[1].H, grids[1].W, mode, generator);
        stn3 = new SpatialTransformer(backbone.Architecture.StageChannels(3), grids[2].H, grids[2].W, mode, generator);
        int width3 = backbone.Architecture.StageChannels(3);
        encoder = nn.Sequential(
            nn.Conv2d(width3, width3, 1, bias: false), KeptScalarBatchNorm.BatchNorm2d(width3), nn.ReLU(),
            nn.Conv2d(width3, width3, 1, bias: false), KeptScalarBatchNorm.BatchNorm2d(width3), nn.ReLU(),
            nn.Conv2d(width3, width3, 1, bias: false));
        predictor = nn.Sequential(nn.Conv2d(width3, width3, 1, bias: false), KeptScalarBatchNorm.BatchNorm2d(width3), nn.ReLU(), nn.Conv2d(width3, width3, 1, bias: false));
        using (no_grad())
            foreach (var conv in encoder.modules().Concat(predictor.modules()).OfType<Conv2d>())
            {
                // PyTorch's default Conv2d initialisation: uniform ±1/√fan_in (kaiming_uniform_ with a = √5).
                double bound = 1 / Math.Sqrt(conv.weight!.shape[1]);
                conv.weight.uniform_(-bound, bound, generator);
            }
        Grid = grids[0];
        long positions = (long)grids[0].H * grids[0].W, d = channels.shape[0];
        gaussian_channels = channels.to_type(ScalarType.Int64).clone();
        // Uninitialised until fitted (never read before): the official full-channel inverse is 2.5 GB at 224 pixels,
        // and untouched pages cost no memory while the network trains.
        gaussian_mean = empty(positions, d);
        gaussian_inverse = empty(positions, d, d);
        gaussian_fitted = zeros(1);
        RegisterComponents();
    }

    public bool IsFitted => gaussian_fitted.item<float>() == 1;

    /// <summary>The feature grid of stage 1, where the Gaussians live.</summary>
    public (int Height, int Width) Grid { get; }

    /// <summary>
    /// stn.py forward: the last transformer's output [N, 256, h/16, w/16] of preprocessed images; with
    /// <paramref name="registered"/> also each stage's transformed output mapped back by the inverse transformations
    /// of it and the stages before it (stnK_output, without gradient), the features the Gaussians model.
    /// </summary>
    public (Tensor Output, Tensor[]? Registered) Forward(Tensor images, bool registered)
    {
        var x = resnet.Stem(images);
        SpatialTransformer[] transformers = [stn1, stn2, stn3];
        var inverses = new List<Tensor>();
        var outputs = registered ? new Tensor[Stages] : null;
        for (int s = 0; s < Stages; s++)
        {
            (x, var theta) = transformers[s].call(resnet.Stage(s + 1, x));
            if (outputs is null) continue;
            inverses.Add(SpatialTransformer.Inverse(theta));
            using var noGrad = no_grad();
            var back = x.detach();
            for (int k = s; k >= 0; k--) back = SpatialTransformer.Resample(back, inverses[k]);
            outputs[s] = back;
        }
        return (x, outputs);
    }

    /// <summary>
    /// train.py's loss of an episode: query images [B, 3, H, W] and their supports [B·K, 3, H, W] (query b's K supports
    /// at b·K …); the supports' outputs are averaged per query, then the symmetric negative cosine of the predictor's
    /// output of each side against the other side's encoding (<see cref="SymmetricNegativeCosine"/>).
    /// </summary>
    public Tensor RegistrationLoss(Tensor queries, Tensor supports)
    {
        long b = queries.shape[0], k = supports.shape[0] / b;
        var query = Forward(queries, registered: false).Output;
        var support = Forward(supports, registered: false).Output;
        support = (support / k).view(b, k, support.shape[1], support.shape[2], support.shape[3]).sum(1);
        var z1 = encoder.call(query);
        var z2 = encoder.call(support);
        return SymmetricNegativeCosine(predictor.call(z1), predictor.call(z2), z1, z2);
    }

    /// <summary>
    /// losses/norm_loss.py CosLoss(p1, z2)/2 + CosLoss(p2, z1)/2, SimSiam's loss: CosLoss(p, z) = −mean over samples and
    /// positions of the cosine similarity along channels of p and z, z detached (stop-gradient).
    /// </summary>
    public static Tensor SymmetricNegativeCosine(Tensor p1, Tensor p2, Tensor z1, Tensor z2) =>
        -nn.functional.cosine_similarity(p1, z2.detach(), dim: 1).mean() / 2 - nn.functional.cosine_similarity(p2, z1.detach(), dim: 1).mean() / 2;

    /// <summary>
    /// The registered features of preprocessed images as PaDiM embeds them (train.py's embedding_concat: stages 2 and
    /// 3 repeated onto stage 1's grid, i.e. nearest upsampling), the modelled channels: [N, h·w, D].
    /// </summary>
    public Tensor Embeddings(Tensor images)
    {
        using var scope = NewDisposeScope();
        var registered = Forward(images, registered: true).Registered!;
        var joined = FeatureMaps.ConcatenateOnGrid(registered, InterpolationMode.Nearest).index_select(1, gaussian_channels);
        return FeatureMaps.ToPositionRows(joined).MoveToOuterDisposeScope();
    }

    /// <summary>Keeps the fitted Gaussians: mean [P, D] and inverse covariance [P, D, D].</summary>
    public void SetGaussians(Tensor mean, Tensor inverse)
    {
        if (!mean.shape.SequenceEqual(gaussian_mean.shape))
            throw new InvalidOperationException($"The Gaussians are [{string.Join(", ", mean.shape)}]; the network models [{string.Join(", ", gaussian_mean.shape)}].");
        using var noGrad = no_grad();
        gaussian_mean.copy_(mean);
        gaussian_inverse.copy_(inverse);
        gaussian_fitted.fill_(1);
    }

    /// <summary>The Mahalanobis distance maps [N, h, w] of preprocessed images to the support set's Gaussians.</summary>
    public Tensor Distances(Tensor images)
    {
        if (!IsFitted) throw new InvalidOperationException("RegAD's Gaussians are fitted on the support set when training finishes; this network has none.");
        var embeddings = Embeddings(images);
        return Mahalanobis.Distances(embeddings, gaussian_mean, gaussian_inverse).reshape(-1, Grid.Height, Grid.Width);
    }
}
