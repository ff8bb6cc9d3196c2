using static TorchSharp.torch;

namespace Vigil.Detectors.Draem;

/// <summary>DRAEM's losses (loss.py): SSIM on the reconstruction and the focal loss on the predicted mask.</summary>
public static class DraemLoss
{
    /// <summary>
    /// loss.py's <c>ssim</c> of images [N, C, H, W]: the mean over pixels and channels of
    /// ((2μ₁μ₂ + c₁)(2σ₁₂ + c₂)) / ((μ₁² + μ₂² + c₁)(σ₁² + σ₂² + c₂)), the local statistics taken with a normalised
    /// Gaussian window (create_window) of side <paramref name="window"/> and σ 1.5 per channel, zero-padded by window / 2. c₁ = (0.01 L)²,
    /// c₂ = (0.03 L)², with the value range L read off the first image as the official code does: its maximum above 128
    /// means 255, else 1, minus −1 when its minimum is below −0.5, else minus 0.
    /// </summary>
    public static Tensor Ssim(Tensor first, Tensor second, int window = 11)
    {
        using var scope = NewDisposeScope();
        long channels = first.shape[1];
        double max = first.max().item<float>() > 128 ? 255 : 1, min = first.min().item<float>() < -0.5 ? -1 : 0;
        double range = max - min, c1 = Math.Pow(0.01 * range, 2), c2 = Math.Pow(0.03 * range, 2);
        // The five local means in one pass; the 2-D window is the outer product of the 1-D Gaussian, so filtering by
        // rows then columns is the same filter (up to float rounding), and far cheaper than one 11 × 11 convolution.
        var stacked = cat([first, second, first * first, second * second, first * second], 1);
        long groups = 5 * channels;
        var gaussian = Gaussian(window, 1.5).to(first.dtype);
        var filtered = nn.functional.conv2d(stacked, gaussian.view(1, 1, window, 1).expand(groups, 1, window, 1), padding: [window / 2, 0], groups: groups);
        filtered = nn.functional.conv2d(filtered, gaussian.view(1, 1, 1, window).expand(groups, 1, 1, window), padding: [0, window / 2], groups: groups);
        var parts = filtered.chunk(5, 1);
        var (mu1, mu2) = (parts[0], parts[1]);
        var (mu1Sq, mu2Sq, mu12) = (mu1.pow(2), mu2.pow(2), mu1 * mu2);
        var (sigma1Sq, sigma2Sq, sigma12) = (parts[2] - mu1Sq, parts[3] - mu2Sq, parts[4] - mu12);
        var map = (2 * mu12 + c1) * (2 * sigma12 + c2) / ((mu1Sq + mu2Sq + c1) * (sigma1Sq + sigma2Sq + c2));
        return map.mean().MoveToOuterDisposeScope();
    }

    /// <summary>loss.py's <c>gaussian</c>: exp(−(x − size / 2)² / 2σ²) for x = 0 … size − 1, normalised to sum 1.</summary>
    internal static Tensor Gaussian(int size, double sigma)
    {
        var g = Enumerable.Range(0, size).Select(x => Math.Exp(-Math.Pow(x - size / 2, 2) / (2 * sigma * sigma))).ToArray();
        double sum = g.Sum();
        return tensor(g.Select(v => (float)(v / sum)).ToArray());
    }

    /// <summary>
    /// loss.py's <c>FocalLoss</c> as DRAEM calls it (on softmax probabilities, no α weighting): the mean over pixels of
    /// −(1 − p_t)^γ · log p_t, where p_t = Σ_c onehot_c · p_c + smooth, the one-hot target clamped to
    /// [smooth / (C − 1), 1 − smooth]. <paramref name="probabilities"/> [N, C, H, W]; <paramref name="target"/> [N, 1, H, W]
    /// holds class indices (the 0/1 mask).
    /// </summary>
    public static Tensor Focal(Tensor probabilities, Tensor target, double gamma = 2, double smooth = 1e-5)
    {
        using var scope = NewDisposeScope();
        long classes = probabilities.shape[1];
        var oneHot = nn.functional.one_hot(target.squeeze(1).to(ScalarType.Int64), classes).permute(0, 3, 1, 2).to(probabilities.dtype);
        if (smooth > 0) oneHot = oneHot.clamp(smooth / (classes - 1), 1 - smooth);
        var pt = (oneHot * probabilities).sum(1) + smooth;
        return (-(1 - pt).pow(gamma) * pt.log()).mean().MoveToOuterDisposeScope();
    }
}
