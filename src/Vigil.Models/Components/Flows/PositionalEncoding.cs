using TorchSharp;
using static TorchSharp.torch;

namespace Vigil.Components.Flows;

/// <summary>
/// CFlow's 2D sine-cosine positional encoding (gudovskiy/cflow-ad, model.py, <c>positionalencoding2d</c>), a 2D
/// version of the Transformer's: half of the D channels encode the column, half the row. With D' = D/2 and
/// ω_k = exp(−2k · ln(10⁴) / D') for k &lt; D'/4:
/// P[2k] = sin(w·ω_k), P[2k+1] = cos(w·ω_k), P[D'+2k] = sin(h·ω_k), P[D'+2k+1] = cos(h·ω_k),
/// computed in float32 with the same operations as the reference.
/// </summary>
public static class PositionalEncoding
{
    /// <summary>The encoding [D, H, W] of every position of an H × W grid; D must be a multiple of 4.</summary>
    public static Tensor TwoDimensional(int channels, int height, int width)
    {
        if (channels <= 0 || channels % 4 != 0)
            throw new VigilInputException($"The 2D positional encoding needs a positive multiple of 4 channels; got {channels}.");
        using var scope = NewDisposeScope();
        int half = channels / 2;
        var frequencies = (arange(0.0, half, 2.0, dtype: ScalarType.Float32) * -(Math.Log(1e4) / half)).exp(); // [D'/2]
        var columns = arange(0.0, width, dtype: ScalarType.Float32).unsqueeze(1) * frequencies;                  // [W, D'/2]
        var rows = arange(0.0, height, dtype: ScalarType.Float32).unsqueeze(1) * frequencies;                    // [H, D'/2]
        var encoding = zeros(channels, height, width);
        long quarter = frequencies.shape[0];
        for (long k = 0; k < quarter; k++)
        {
            encoding[2 * k] = columns[.., k].sin().expand(height, width);
            encoding[2 * k + 1] = columns[.., k].cos().expand(height, width);
            encoding[half + 2 * k] = rows[.., k].sin().unsqueeze(1).expand(height, width);
            encoding[half + 2 * k + 1] = rows[.., k].cos().unsqueeze(1).expand(height, width);
        }
        return encoding.MoveToOuterDisposeScope();
    }
}
