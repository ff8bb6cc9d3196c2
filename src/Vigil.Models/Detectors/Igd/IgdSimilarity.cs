using Vigil.Detectors.Draem;
using static TorchSharp.torch;

namespace Vigil.Detectors.Igd;

/// <summary>
/// The multi-scale SSIM IGD trains and scores with (pytorch_msssim's <c>ms_ssim</c>, as the repository's
/// multi_scale/pytorch_msssim_residual_map.py also returns its per-scale maps): at each of the weights' levels the
/// SSIM of a Gaussian window (σ 1.5) without padding ('valid'), then a 2 × 2 mean pool (padded by the odd sides) before
/// the next level; per image and channel, Π_{l &lt; L} relu(cs_l)^{w_l} · relu(ssim_L)^{w_L} (a zero factor counts as
/// 1e-12), averaged over channels.
/// </summary>
public static class IgdSimilarity
{
    private const double K1 = 0.01, K2 = 0.03, WindowSigma = 1.5;

    /// <summary>
    /// MS-SSIM [N] of image batches [N, C, H, W] of value range <paramref name="range"/>, and each level's relu'd SSIM
    /// map [N, C, h_l, w_l] (h_l = H / 2^l − window + 1).
    /// </summary>
    public static (Tensor Values, IReadOnlyList<Tensor> Maps) MultiScale(Tensor x, Tensor y, double range, int window, IReadOnlyList<double> weights)
    {
        var gaussian = DraemLoss.Gaussian(window, WindowSigma).to(x.dtype);
        var maps = new List<Tensor>();
        var factors = new List<Tensor>();
        Tensor last = null!;
        for (int level = 0; level < weights.Count; level++)
        {
            var (ssimMap, csMap) = Ssim(x, y, gaussian, range);
            maps.Add(nn.functional.relu(ssimMap));
            if (level < weights.Count - 1)
            {
                factors.Add(nn.functional.relu(csMap.flatten(2).mean([-1])));
                long[] padding = [x.shape[2] % 2, x.shape[3] % 2];
                x = nn.functional.avg_pool2d(x, [2, 2], padding: padding);
                y = nn.functional.avg_pool2d(y, [2, 2], padding: padding);
            }
            else last = nn.functional.relu(ssimMap.flatten(2).mean([-1]));
        }
        factors.Add(last);
        var stacked = stack(factors); // [L, N, C]
        stacked = where(stacked == 0, full_like(stacked, 1e-12), stacked);
        var power = tensor(weights.Select(w => (float)w).ToArray()).to(x.dtype).view(-1, 1, 1);
        return (stacked.pow(power).prod(dim: 0L).mean([1]), maps);
    }

    /// <summary>The SSIM map and contrast-structure map of one level (valid Gaussian filtering by rows then columns).</summary>
    private static (Tensor Ssim, Tensor ContrastStructure) Ssim(Tensor x, Tensor y, Tensor gaussian, double range)
    {
        long channels = x.shape[1], size = gaussian.shape[0];
        if (x.shape[2] < size || x.shape[3] < size)
            throw new VigilInputException($"IGD's MS-SSIM reaches a {x.shape[2]}×{x.shape[3]} level, smaller than its {size}-pixel window: use a larger input or fewer levels (msssim_weights).");
        double c1 = Math.Pow(K1 * range, 2), c2 = Math.Pow(K2 * range, 2);
        var stacked = cat([x, y, x * x, y * y, x * y], 1);
        long groups = 5 * channels;
        var filtered = nn.functional.conv2d(stacked, gaussian.view(1, 1, size, 1).expand(groups, 1, size, 1), groups: groups);
        filtered = nn.functional.conv2d(filtered, gaussian.view(1, 1, 1, size).expand(groups, 1, 1, size), groups: groups);
        var parts = filtered.chunk(5, 1);
        var (mu1, mu2) = (parts[0], parts[1]);
        var (mu1Sq, mu2Sq, mu12) = (mu1.square(), mu2.square(), mu1 * mu2);
        var cs = (2 * (parts[4] - mu12) + c2) / (parts[2] - mu1Sq + parts[3] - mu2Sq + c2);
        return ((2 * mu12 + c1) / (mu1Sq + mu2Sq + c1) * cs, cs);
    }
}
